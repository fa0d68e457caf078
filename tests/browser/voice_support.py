"""What the voice call tests need (issue 24): a tone file for the child's fake microphone, the
helpline's own coturn on free ports, and a Chromium with fake media devices."""

from __future__ import annotations

import math
import re
import socket
import struct
import subprocess
import time
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Page, Playwright

from tests.browser.conftest import CHROMIUM, FLAGS

TONE_HZ = 440.0
TURN_SECRET = "voice-test-secret-3b9c"  # noqa: S105 - a test's own coturn


def write_tone(path: Path, hz: float = TONE_HZ, seconds: float = 20.0, rate: int = 48000) -> Path:
    """A pure sine tone, 16-bit mono PCM: what the child's fake microphone sends."""
    frames = b"".join(struct.pack("<h", int(12000 * math.sin(2 * math.pi * hz * i / rate)))
                      for i in range(int(seconds * rate)))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames)
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind(("127.0.0.1", 0))
        return int(udp.getsockname()[1])


class Coturn:
    def __init__(self, port: int, relay: range, log: Path, process: subprocess.Popen[bytes]) -> None:
        self.port, self.relay, self.log, self.process = port, relay, log, process
        self.url = f"turn:127.0.0.1:{port}?transport=udp"

    def stop(self) -> str:
        """Stops coturn (its log is complete only then) and returns the log."""
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        return self.log.read_text(errors="replace")


@contextmanager
def coturn(folder: Path) -> Iterator[Coturn]:
    """Debian's coturn with the REST-API shared secret, on its own ports, stopped at the end."""
    port = free_port()
    low = 40000 + (port % 200) * 100
    log = folder / "turn.log"
    process = subprocess.Popen(  # noqa: S603
        ["/usr/bin/turnserver", "-n", "--listening-ip=127.0.0.1", f"--listening-port={port}",
         "--relay-ip=127.0.0.1", f"--min-port={low}", f"--max-port={low + 99}", "--use-auth-secret",
         f"--static-auth-secret={TURN_SECRET}", "--realm=helpline.test", "--no-cli", "--no-tls", "--no-dtls",
         "--no-tcp-relay", "--allow-loopback-peers", f"--log-file={log}", "--simple-log", "--no-stdout-log",
         f"--pidfile={folder / 'turn.pid'}", f"--db={folder / 'turndb'}"],
        cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        for _ in range(100):
            if log.exists() and "Total auth threads" in log.read_text(errors="replace"):
                break
            time.sleep(0.1)
        turn = Coturn(port, range(low, low + 100), log, process)
        yield turn
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(10)


def voice_browser(playwright: Playwright, tone: Path) -> Browser:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=[
        *FLAGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-audio-capture={tone}", "--autoplay-policy=no-user-gesture-required",
        "--allow-loopback-in-peer-connection"])


# The strongest frequency of an audio stream, measured in the page with an AnalyserNode (FFT).
PEAK_HZ = """async (stream) => {
  const ctx = new AudioContext();
  await ctx.resume();
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 16384;
  ctx.createMediaStreamSource(stream).connect(analyser);
  const sum = new Float32Array(analyser.frequencyBinCount).fill(0);
  for (let k = 0; k < 8; k++) {
    await new Promise(r => setTimeout(r, 250));
    const d = new Float32Array(analyser.frequencyBinCount);
    analyser.getFloatFrequencyData(d);
    for (let i = 0; i < d.length; i++) sum[i] += Math.pow(10, d[i] / 20);
  }
  let best = 1;
  for (let i = 2; i < sum.length; i++) if (sum[i] > sum[best]) best = i;
  const hz = best * ctx.sampleRate / analyser.fftSize;
  ctx.close();
  return hz;
}"""


def peak_of_remote(page: Page, selector: str) -> float:
    """The peak of what the page receives: the stream its call's <audio> element plays."""
    return float(page.evaluate(f"(sel) => ({PEAK_HZ})(document.querySelector(sel).srcObject)", selector))


def peak_of_microphone(page: Page) -> float:
    return float(page.evaluate(f"async () => ({PEAK_HZ})(await navigator.mediaDevices.getUserMedia({{audio: true}}))"))


# What the page's connection tells of the other side: the candidate types and addresses it got.
CANDIDATES = """async () => {
  const out = [];
  const pcs = window.__voicePeers || [];
  for (const pc of pcs) (await pc.getStats()).forEach(r => {
    if (r.type === 'remote-candidate' || r.type === 'local-candidate') out.push(
      {kind: r.type, type: r.candidateType, address: r.address, port: r.port,
       related: r.relatedAddress, relatedPort: r.relatedPort});
  });
  return out;
}"""


ADDRESS = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}[: ](\d{1,5})\b")


def client_addresses(text: str, own_ports: set[int]) -> list[str]:
    """Every address:port in a log that is not one of the servers' own (a client's, then)."""
    return [m.group(0) for m in ADDRESS.finditer(text) if int(m.group(1)) not in own_ports]
