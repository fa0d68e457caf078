"""WebSocket endpoints: each socket gets one connection object (chat/child_connection.py,
chat/staff_connection.py), which reads its frames and sends acks and events until it closes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from chat.child_connection import ChildConnection
from chat.staff_connection import ROLE_CHANGED_CLOSE, SESSION_ENDED_CLOSE, StaffConnection
from helpline.security import permissions

if TYPE_CHECKING:
    from helpline.app import Services


async def child_socket(websocket: WebSocket) -> None:
    services: Services = websocket.app.state.services
    await ChildConnection(websocket, services).run()


async def staff_socket(websocket: WebSocket) -> None:
    services: Services = websocket.app.state.services
    found = await services.staff_for_websocket(websocket)
    if found is None or not permissions.allowed(found[0].role, "console.use"):
        # Accepted, then closed with the code: a close before accepting reaches the browser as an
        # HTTP 403, which the console cannot tell from a network failure (docs/protocol.md).
        await websocket.accept()
        await websocket.close(code=SESSION_ENDED_CLOSE if found is None else ROLE_CHANGED_CLOSE)
        return
    staff, session = found
    await StaffConnection(websocket, services, staff, session).run()


routes = [WebSocketRoute("/ws/child", child_socket), WebSocketRoute("/ws/staff", staff_socket)]
