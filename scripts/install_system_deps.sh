#!/usr/bin/env bash
# Install the Debian packages Misery Meter needs beyond Python, when they are missing.
#   runtime: libportaudio2 (microphones, through sounddevice)
#   test:    + alsa-utils (arecord, and ALSA's file-backed capture device for the tests)
#            + postgresql (a throwaway server the store's tests start on loopback)
#            + chromium (the dashboard's browser tests drive it headless through playwright)
#            + mosquitto, openssl (an MQTT broker the tests start on loopback, with TLS)
#   bench:   + espeak-ng (bench/detector.py voices babble with it)
set -euo pipefail
kind="${1:-runtime}"
packages=(libportaudio2)
if [ "$kind" = test ]; then
    packages+=(alsa-utils postgresql chromium mosquitto openssl)
fi
if [ "$kind" = bench ]; then
    packages+=(espeak-ng)
fi
missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
[ "${#missing[@]}" -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
    echo "error: missing ${missing[*]}; run: sudo apt-get install ${missing[*]}" >&2
    exit 1
fi
