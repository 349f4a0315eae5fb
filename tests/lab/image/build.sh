#!/usr/bin/env bash
# Build the edgenet lab guest image: Debian minbase of SUITE (12 bookworm by default, or
# 13 trixie) + packages.txt, Debian's kernel (linux-image-amd64 from SUITE-security) with its
# modules, an ext4 raw image and a small busybox initramfs.
#
# Usage: build.sh OUTDIR CACHEDIR [SUITE]
#   OUTDIR   empty directory that receives base.raw, vmlinuz, initrd.img, manifest.txt
#   CACHEDIR persistent package cache (debootstrap/ and apt-archives/ below it; shared by
#            the suites: apt and debootstrap take only the .debs of the versions they want)
#   SUITE    bookworm (default) or trixie
#
# Run as root, preferably inside `unshare -m` (tests/lab/lab does that) so that
# the chroot's mounts vanish with the process even when the build is killed.
# Everything this script reads is part of the recipe hash computed by `lab`.
set -euo pipefail

out=$(readlink -f "$1")
cache=$(readlink -f "$2")
here=$(dirname "$(readlink -f "$0")")
mirror=${EDGENET_LAB_MIRROR:-http://deb.debian.org/debian}
security_mirror=${EDGENET_LAB_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
suite=${3:-bookworm}
case $suite in
    bookworm | trixie) ;;
    *) echo "unsupported suite $suite (bookworm, trixie)" >&2; exit 2 ;;
esac
image_size=3G
root=$out/rootfs
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

log() { printf '[build %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

# packages.txt: one package a line, optionally followed by the only suites that get it
mapfile -t packages < <(awk -v suite="$suite" '{ sub(/#.*/, "") } NF == 0 { next }
    NF == 1 { print $1; next } { for (i = 2; i <= NF; i++) if ($i == suite) print $1 }' "$here/packages.txt")

mkdir -p "$cache/debootstrap" "$cache/apt-archives" "$root"

in_root() { chroot "$root" "$@"; }

cleanup() {
    for m in dev/pts proc sys; do
        if mountpoint -q "$root/$m" 2>/dev/null; then umount -l "$root/$m" || true; fi
    done
}
trap cleanup EXIT

log "debootstrap $suite minbase from $mirror"
debootstrap --variant=minbase --cache-dir="$cache/debootstrap" \
    --components=main "$suite" "$root" "$mirror" > "$out/debootstrap.log" 2>&1 \
    || { tail -n 30 "$out/debootstrap.log" >&2; exit 1; }

mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount -t devpts devpts "$root/dev/pts" -o newinstance,ptmxmode=0666 || true

cat > "$root/etc/apt/sources.list" <<EOF
deb $mirror $suite main
deb $mirror $suite-updates main
deb $security_mirror $suite-security main
EOF
cat > "$root/etc/apt/apt.conf.d/90edgenet-lab" <<'EOF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
EOF
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
# No service may start inside the build chroot.
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"

# Reuse downloaded .debs: hard-link the cache into the chroot's archive dir
# (apt verifies them against the index) and back after the install.
archives=$root/var/cache/apt/archives
mkdir -p "$archives/partial"
find "$cache/apt-archives" -maxdepth 1 -name '*.deb' -exec ln -f -t "$archives" {} + 2>/dev/null \
    || find "$cache/apt-archives" -maxdepth 1 -name '*.deb' -exec cp -t "$archives" {} +

echo force-unsafe-io > "$root/etc/dpkg/dpkg.cfg.d/lab-build-unsafe-io"

log "apt-get update"
in_root apt-get -q update > "$out/apt.log" 2>&1 || { tail -n 30 "$out/apt.log" >&2; exit 1; }

log "resolving kernel package"
kpkg=$(in_root apt-cache depends linux-image-amd64 | sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n 1)
[ -n "$kpkg" ] || { echo "cannot resolve linux-image-amd64" >&2; exit 1; }
kver=${kpkg#linux-image-}
log "kernel $kpkg"

log "apt-get upgrade + install ${packages[*]}"
in_root apt-get -q upgrade -y >> "$out/apt.log" 2>&1 || { tail -n 30 "$out/apt.log" >&2; exit 1; }
in_root apt-get -q install -y "${packages[@]}" >> "$out/apt.log" 2>&1 \
    || { tail -n 30 "$out/apt.log" >&2; exit 1; }
# The kernel and busybox-static are unpacked, not installed: no initramfs-tools
# run, no boot loader, and busybox only goes into the initramfs.
in_root apt-get -q install -y --download-only "$kpkg" busybox-static >> "$out/apt.log" 2>&1 \
    || { tail -n 30 "$out/apt.log" >&2; exit 1; }
kdeb=$(find "$archives" -maxdepth 1 -name "${kpkg}_*_amd64.deb" | sort | tail -n 1)
# the version apt chose (the cache also holds the other suites' busybox-static): apt names
# the file after it, with the epoch's colon as %3a
bbver=$(in_root apt-cache show --no-all-versions busybox-static | sed -n 's/^Version: //p' | head -n 1)
bbdeb=$archives/busybox-static_${bbver/:/%3a}_amd64.deb
[ -f "$bbdeb" ] || { echo "busybox-static $bbver not downloaded ($bbdeb)" >&2; exit 1; }
# tar keeps merged-/usr symlinks (/lib -> usr/lib); plain dpkg-deb -x replaces them
dpkg-deb --fsys-tarfile "$kdeb" | tar -x --keep-directory-symlink -C "$root"
in_root depmod -a "$kver"
cp "$root/boot/vmlinuz-$kver" "$out/vmlinuz"

find "$archives" -maxdepth 1 -name '*.deb' -exec ln -f -t "$cache/apt-archives" {} + 2>/dev/null \
    || find "$archives" -maxdepth 1 -name '*.deb' -exec cp -n -t "$cache/apt-archives" {} +

log "initramfs"
ird=$out/initramfs
mkdir -p "$ird/bin" "$ird/lib/modules"
dpkg-deb -x "$bbdeb" "$out/busybox"
# /bin/busybox in bookworm's package, /usr/bin/busybox in trixie's
cp "$(find "$out/busybox/bin/busybox" "$out/busybox/usr/bin/busybox" 2>/dev/null | head -n 1)" "$ird/bin/busybox"
ln -s busybox "$ird/bin/sh"  # /init is a #!/bin/sh script
cp "$here/init" "$ird/init"
chmod 755 "$ird/init" "$ird/bin/busybox"
moddir=$root/lib/modules/$kver
# Modules needed to reach the root file system, with their dependencies
# (modules.dep lists a module's dependencies, deepest last), in load order.
# crc32c_generic is ext4's crypto-API (soft) dependency. Modules are copied uncompressed:
# busybox's insmod loads plain .ko files only, and trixie's kernel ships .ko.xz.
declare -A seen=()
order=()
add_module() {
    local name=$1 line path dep
    line=$(grep -E "(^|/)${name}\.ko(\.[a-z]+)?:" "$moddir/modules.dep" || true)
    if [ -z "$line" ]; then
        grep -qE "/${name}\.ko" "$moddir/modules.builtin" && return 0
        echo "module $name not found" >&2; exit 1
    fi
    path=${line%%:*}
    [ -n "${seen[$path]:-}" ] && return 0
    seen[$path]=1
    local deps=()
    read -r -a deps <<< "${line#*:}"
    for dep in "${deps[@]}"; do
        dep=${dep##*/}; dep=${dep%%.ko*}
        add_module "$dep"
    done
    order+=("$path")
}
for m in crc32c_generic virtio_pci virtio_blk virtio_net ext4; do
    add_module "$m"
done
: > "$ird/modules.order"
for path in "${order[@]}"; do
    mkdir -p "$ird/lib/modules/$(dirname "$path")"
    case $path in
        *.ko) cp "$moddir/$path" "$ird/lib/modules/$path" ;;
        *.ko.xz) xz -dc "$moddir/$path" > "$ird/lib/modules/${path%.xz}" ;;
        *.ko.zst) zstd -dcq "$moddir/$path" > "$ird/lib/modules/${path%.zst}" ;;
        *.ko.gz) gzip -dc "$moddir/$path" > "$ird/lib/modules/${path%.gz}" ;;
        *) echo "module $path: unknown compression" >&2; exit 1 ;;
    esac
    echo "${path%.ko*}.ko" >> "$ird/modules.order"
done
(cd "$ird" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet) | gzip -1 > "$out/initrd.img"

log "guest configuration"
echo lab > "$root/etc/hostname"
cat > "$root/etc/hosts" <<'EOF'
127.0.0.1	localhost
::1		localhost ip6-localhost ip6-loopback
EOF
: > "$root/etc/resolv.conf"
cat > "$root/etc/fstab" <<'EOF'
/dev/vda	/	ext4	rw,noatime,errors=remount-ro	0	0
EOF
# Placeholder machine id: each guest gets its own via systemd.machine_id= on
# the kernel command line (an empty file would make every boot a "first boot").
echo 0123456789abcdef0123456789abcdef > "$root/etc/machine-id"
# Management NIC: slirp's internal net, static, no gateway, no DNS: the guest
# has no route beyond QEMU. Links to other guests (eth1...) stay unconfigured.
mkdir -p "$root/etc/systemd/network"
cat > "$root/etc/systemd/network/10-lab-mgmt.network" <<'EOF'
# edgenet lab: management NIC (QEMU user-mode net, restrict=on, ssh via hostfwd)
[Match]
Name=eth0

[Network]
Address=10.0.2.15/24
LinkLocalAddressing=no
IPv6AcceptRA=no
EOF
# The same management address for the other managers (`lab up --manager`, see tests/lab/lab):
# ifupdown reads /etc/network/interfaces (and, as Debian's default does, interfaces.d/);
# NetworkManager a keyfile, and makes no "Wired connection" of its own for the guest links.
cat > "$root/etc/network/interfaces" <<'EOF'
# edgenet lab: used only when the guest boots with --manager ifupdown
source /etc/network/interfaces.d/*

auto lo
iface lo inet loopback

auto eth0
iface eth0 inet static
    address 10.0.2.15/24
EOF
install -d -m 0755 "$root/etc/NetworkManager/system-connections" "$root/etc/NetworkManager/conf.d"
install -m 0600 /dev/null "$root/etc/NetworkManager/system-connections/lab-mgmt.nmconnection"
cat > "$root/etc/NetworkManager/system-connections/lab-mgmt.nmconnection" <<'EOF'
[connection]
id=lab-mgmt
uuid=6b1f1e5c-6c1d-4d0e-9a57-2f3c1e0d6a01
type=ethernet
interface-name=eth0

[ipv4]
method=manual
address1=10.0.2.15/24

[ipv6]
method=disabled
EOF
# plugins=keyfile: Debian's default adds the ifupdown plugin, which leaves every interface named
# in /etc/network/interfaces (eth0, for the ifupdown guests) unmanaged.
printf '[main]\nplugins=keyfile\nno-auto-default=*\n' > "$root/etc/NetworkManager/conf.d/lab.conf"
mkdir -p "$root/etc/ssh/sshd_config.d"
cat > "$root/etc/ssh/sshd_config.d/lab.conf" <<'EOF'
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
GSSAPIAuthentication no
UseDNS no
EOF
# sshd -t before every start doubles sshd's start-up cost under TCG.
mkdir -p "$root/etc/systemd/system/ssh.service.d"
printf '[Service]\nExecStartPre=\n' > "$root/etc/systemd/system/ssh.service.d/lab.conf"
in_root ssh-keygen -A > /dev/null
in_root passwd -l root > /dev/null
in_root systemctl enable systemd-networkd.service ssh.service > /dev/null 2>&1
for unit in kea-dhcp6-server.service dnsmasq.service radvd.service nftables.service xl2tpd.service \
        networking.service NetworkManager.service apparmor.service; do
    in_root systemctl disable "$unit" > /dev/null 2>&1 || true
done
# Not masked, though they cost boot time: systemd-logind (shutdown -r, used by
# Ansible's reboot module, schedules through it) and dbus (networkctl reload).
for unit in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service \
        fstrim.timer dpkg-db-backup.timer systemd-timesyncd.service getty@tty1.service \
        serial-getty@ttyS0.service systemd-networkd-wait-online.service NetworkManager-wait-online.service \
        modprobe@drm.service modprobe@fuse.service modprobe@dm_mod.service modprobe@loop.service \
        modprobe@efi_pstore.service systemd-pstore.service sys-kernel-debug.mount \
        sys-kernel-tracing.mount sys-fs-fuse-connections.mount dev-hugepages.mount dev-mqueue.mount \
        systemd-binfmt.service proc-sys-fs-binfmt_misc.automount \
        systemd-update-utmp.service systemd-update-utmp-runlevel.service; do
    in_root systemctl mask "$unit" > /dev/null 2>&1
done
# A bytecode cache for the code in Ansible's AnsiballZ zips (pyc_cache.py says why): a
# third of each task's time under TCG is zipimport compiling the same sources again.
pyver=$(in_root python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
site=$root/usr/local/lib/python$pyver/dist-packages
mkdir -p "$site"
install -m 0644 "$here/pyc_cache.py" "$site/edgenet_pyc_cache.py"
echo 'import edgenet_pyc_cache; edgenet_pyc_cache.install()' > "$site/edgenet-pyc-cache.pth"
install -d -m 0700 "$root/var/cache/edgenet-pyc"
# Nothing left for ConditionNeedsUpdate= units (hwdb, ldconfig, catalog) at first boot.
in_root systemd-hwdb update
in_root ldconfig
touch "$root/etc/.updated" "$root/var/.updated"
rm -f "$root/usr/sbin/policy-rc.d" "$root/etc/dpkg/dpkg.cfg.d/lab-build-unsafe-io"
in_root apt-get -q clean
rm -rf "$root/var/lib/apt/lists/"*_Packages* "$root/var/lib/apt/lists/"*_InRelease
{
    echo "kernel $kver"
    echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    # shellcheck disable=SC2016  # dpkg-query's own format, not shell
    in_root dpkg-query -W -f '${Package} ${Version}\n'
} > "$out/manifest.txt"
cleanup

log "ext4 image ($image_size)"
truncate -s "$image_size" "$out/base.raw"
mke2fs -q -t ext4 -L edgenet-lab -m 0 -E lazy_itable_init=0,lazy_journal_init=0 \
    -d "$root" "$out/base.raw"
rm -rf "$root" "$ird" "$out/busybox"
log "done: $(du -h --apparent-size "$out/base.raw" | cut -f1) apparent, $(du -h "$out/base.raw" | cut -f1) used"
