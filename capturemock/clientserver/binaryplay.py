"""CaptureMock playing a recorded ``tcp_header`` client to a live SUT server (§8.2, §8.10: either side
replayed from one file).

The player keeps one connection, as the recorded client did. As with the classic protocol's script
(``ClientScript``), order drives it: the location message releases the first batch of recorded
client messages, and each message the server sends releases the next. The server may answer
asynchronously, so a listener thread reads and records the server's messages while the player sends.
"""
from __future__ import annotations

import queue
import socket
import threading
from collections import deque
from typing import Callable, Optional

from ..mockfile import Item
from .binaryformat import BinaryCodec
from .binaryframing import Stream, read_frame
from .location import FORWARD_TIMEOUT
from .script import ClientScript
from .traffic import Transcript

CONNECT = "connect"  # the request of a client that says nothing first (2.10's ``<-CLI:connect``)


def play_client(script: ClientScript, codec: BinaryCodec, address: tuple[str, int], transcript: Transcript,
                record: Callable[[str], None], warn: Callable[[str], None], wait: float = FORWARD_TIMEOUT) -> None:
    """Send the recorded client messages to the server at ``address``, recording them and the server's
    messages; ends when every batch is sent and answered, or the server is silent for ``wait``."""
    try:
        sock = socket.create_connection(address, timeout=FORWARD_TIMEOUT)
    except OSError as err:
        warn(f"WARNING: Could not connect to server {address[0]}:{address[1]}: {err}")
        return
    sock.settimeout(None)
    released: queue.Queue[Optional[list[Item]]] = queue.Queue()
    order = threading.Lock()  # one item written at a time

    def listen() -> None:
        stream = Stream(sock.recv)
        while True:
            try:
                frame = read_frame(stream, codec, warn)
            except OSError:
                frame = None
            if frame is None:
                released.put(None)
                return
            with order:
                record(transcript.server(codec.to_text(frame.chunks)))
                released.put(script.next_batch())

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    pending = deque(script.next_batch())
    try:
        while True:
            if not pending:
                with order:
                    if script.released_all() and released.empty():
                        break  # every recorded server message came, and its batch was sent
                try:
                    batch = released.get(timeout=wait)
                except queue.Empty:
                    break
                if batch is None:
                    break
                pending.extend(batch)
                continue
            item = pending.popleft()
            text = transcript.alterations.restore_variables(item.text)
            with order:
                record(transcript.client(item.text))
            if text != CONNECT:
                sock.sendall(codec.to_bytes(text))
    except OSError as err:
        warn(f"WARNING: the server at {address[0]}:{address[1]} closed the connection: {err}")
    finally:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()
        listener.join(FORWARD_TIMEOUT)
