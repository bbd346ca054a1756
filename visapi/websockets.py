"""uvicorn's WebSocket protocol (websockets, sans-I/O), closing with 1001 at shutdown.

uvicorn closes open sockets with 1012 (service restart) when the server stops; 1001 (going
away) is what a server that is leaving says, and what graphql-ws clients take as "reconnect
elsewhere". New connections are refused from the same moment: uvicorn has closed its listening
sockets before it asks each connection to shut down.
"""

from __future__ import annotations

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

GOING_AWAY = 1001


class GoingAwayProtocol(WebSocketsSansIOProtocol):
    def shutdown(self) -> None:
        if self.close_sent or not self.handshake_complete:
            super().shutdown()
            return
        self.stop_keepalive()
        self.queue.put_nowait({"type": "websocket.disconnect", "code": GOING_AWAY})
        self.conn.send_close(GOING_AWAY, "server shutting down")
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.transport.close()
