#!/usr/bin/env bash
# The Mosquitto MQTT broker for the live-telemetry tests (tests/ingest/mosquitto.py starts its
# own broker on a free loopback port; without the binary those tests skip with the reason).
# The package's own system broker (port 1883) is stopped and disabled if the install started it.
set -euo pipefail
if [ -x /usr/sbin/mosquitto ]; then
    exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "sysdeps-mosquitto: not root or no apt-get; skipping mosquitto (MQTT tests will skip)"
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
# other sysdeps scripts may hold the dpkg lock: wait for it rather than fail
apt-get -o DPkg::Lock::Timeout=600 update -qq
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends mosquitto >/dev/null
# no system broker left behind: the tests start their own
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    systemctl stop mosquitto.service >/dev/null 2>&1 || true
    systemctl disable mosquitto.service >/dev/null 2>&1 || true
else
    if [ -x /etc/init.d/mosquitto ]; then
        /etc/init.d/mosquitto stop >/dev/null 2>&1 || true
    fi
    if command -v update-rc.d >/dev/null 2>&1; then
        update-rc.d mosquitto disable >/dev/null 2>&1 || true
    fi
fi
if [ -r /run/mosquitto/mosquitto.pid ]; then
    pid="$(cat /run/mosquitto/mosquitto.pid)"
    if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "mosquitto" ]; then
        kill "$pid" 2>/dev/null || true
    fi
fi
echo "sysdeps-mosquitto: installed mosquitto (system broker stopped and disabled)"
