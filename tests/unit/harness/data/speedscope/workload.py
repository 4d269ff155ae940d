"""A two-process workload with a planted slowdown, recorded with py-spy for the tests.

``python workload.py SECONDS COPIES``: the parent hands packets to ``handle_packet``;
with COPIES > 0 every packet is copied that many times in ``copy_packet`` (the
planted regression, like a recorder that copies each packet); a child process spins
in ``child_work`` so the profile spans two processes.
"""

import subprocess
import sys
import time


def copy_packet(packet: bytes, copies: int) -> int:
    total = 0
    for _ in range(copies):
        total += len(bytes(bytearray(packet)))
    return total


def handle_packet(packet: bytes, copies: int) -> int:
    checksum = 0
    for b in packet[:2000]:
        checksum = (checksum + b) % 65521
    return checksum + copy_packet(packet, copies)


def child_work(seconds: float) -> None:
    end = time.time() + seconds
    while time.time() < end:
        sum(i * i for i in range(500))


def main() -> None:
    seconds, copies = float(sys.argv[1]), int(sys.argv[2])
    if copies < 0:
        child_work(seconds)
        return
    child = subprocess.Popen([sys.executable, __file__, str(seconds), "-1"])
    packet = bytes(range(256)) * 256
    end = time.time() + seconds
    while time.time() < end:
        handle_packet(packet, copies)
    child.wait()


if __name__ == "__main__":
    main()
