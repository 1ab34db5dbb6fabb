"""The JSON-RPC layer under pygls, adapted: params that do not fit their method are answered
-32602 without a popup, notification futures are not leaked, `shutdown` during a profile run
is clean, and a command learns its client request id (to hear `$/cancelRequest`)."""

from __future__ import annotations

import contextvars
import logging
import threading
import uuid
from typing import Protocol, cast

from lsprotocol import types
from lsprotocol.types import CANCEL_REQUEST
from pygls.protocol import LanguageServerProtocol, lsp_method

log = logging.getLogger(__name__)

# The params of the workspace/executeCommand request being handled (for its workDoneToken).
EXECUTE_PARAMS: contextvars.ContextVar[types.ExecuteCommandParams | None] = \
    contextvars.ContextVar("memlens_execute_params", default=None)
# Its JSON-RPC id: pygls runs command handlers under a fresh internal id, so `$/cancelRequest`
# of the client's id only cancels pygls' outer future; the command registers its cancel event
# under the client's id in `MemlensServer.cancel_events` to hear about it.
EXECUTE_ID: contextvars.ContextVar[object] = contextvars.ContextVar("memlens_execute_id",
                                                                     default=None)


class _Server(Protocol):
    """What this layer asks of its server (a `MemlensServer`, which imports this module)."""

    cancel_events: dict[object, threading.Event]

    def open_document(self, uri: str) -> object | None: ...


class _Refused:
    """A message already answered (or dropped) because its params do not fit its method."""

    jsonrpc = "2.0"


_REFUSED = _Refused()
INVALID_REQUEST = -32600
INVALID_PARAMS = -32602


class MemlensProtocol(LanguageServerProtocol):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.shutdown_asked = False  # a `shutdown` request came: from then on, only `exit`

    def structure_message(self, data):
        """Params that do not fit the method (a line of -1, a string position, a missing field)
        get a -32602 answer with a short message and one log line: no popup, no traceback,
        and no request left unanswered (pygls raises before it knows the request's id)."""
        if not (isinstance(data, dict) and "jsonrpc" in data and "method" in data
                and "result" not in data and "error" not in data):
            return super().structure_message(data)
        method = data.get("method")
        message_type = self.get_message_type(method) if isinstance(method, str) else None
        if message_type is None:
            return super().structure_message(data)
        try:
            return self._converter.structure(data, message_type)
        except Exception as exc:
            reason = _invalid_params_reason(exc)
            log.warning("invalid params for %s: %s", method, reason)
            if "id" in data:
                self._send_data({"jsonrpc": "2.0", "id": data["id"], "error": {
                    "code": INVALID_PARAMS, "message": f"invalid params for {method}: {reason}"}})
            return _REFUSED

    def handle_message(self, message):
        """After `shutdown`, a request is answered InvalidRequest, as the specification says
        (pygls answered nothing: the client waited for ever), and a notification other than
        `exit` is dropped."""
        if message is _REFUSED:
            return
        method = getattr(message, "method", None)
        if self.shutdown_asked and method != types.EXIT:
            if method is not None and getattr(message, "id", None) is not None:
                self._send_data({"jsonrpc": "2.0", "id": message.id, "error": {
                    "code": INVALID_REQUEST,
                    "message": f"{method}: the server is shutting down (after `shutdown`, "
                               "only `exit`)"}})
            return
        if method == types.SHUTDOWN and getattr(message, "id", None) is not None:
            self.shutdown_asked = True
        return super().handle_message(message)

    def _handle_notification(self, method_name: str, params) -> None:
        """pygls files the future of a notification handled by a generator (didOpen,
        didChange, didClose) among the pending requests, under a fresh id, and never removes it:
        one future leaked per notification (20 MiB per thousand edited documents). Here it is
        removed once the handler is done."""
        if method_name == CANCEL_REQUEST:
            return super()._handle_notification(method_name, params)
        from pygls.exceptions import FeatureNotificationError, JsonRpcMethodNotFound

        msg_id = str(uuid.uuid4())

        def done(future) -> None:
            self._request_futures.pop(msg_id, None)
            self._check_handler_result(future)

        try:
            handler = self._get_handler(method_name)
            self._execute_handler(msg_id=msg_id, handler=handler, args=(params,), callback=done)
        except JsonRpcMethodNotFound:
            log.warning("ignoring the notification %r: no such method", method_name)
        except Exception as error:
            log.warning("notification %r failed: %s", method_name, error)
            self._server._report_server_error(error, FeatureNotificationError)

    def _run_generator(self, future, *, gen, result_future):
        """pygls runs each handler that a generator handler yields (a command under
        `workspace/executeCommand`, a feature under didOpen) under a fresh id among the pending
        requests, and never removes it: one task and its result leaked per command. The same
        step, with that id removed once its handler is done."""
        if result_future.cancelled():
            return
        try:
            value = future.result() if future is not None else None
            handler, args, kwargs = gen.send(value)
        except StopIteration as result:
            result_future.set_result(result.value)
            return
        except Exception as exc:
            result_future.set_exception(exc)
            return
        inner = str(uuid.uuid4())

        def step(done) -> None:
            self._request_futures.pop(inner, None)
            self._run_generator(done, gen=gen, result_future=result_future)

        try:
            self._execute_handler(inner, handler, args=args, kwargs=kwargs, callback=step)
        except Exception as exc:
            self._request_futures.pop(inner, None)
            result_future.set_exception(exc)

    @lsp_method(types.SHUTDOWN)
    def lsp_shutdown(self, *args):
        """pygls' own walks the pending requests while cancelling them removes them (a profile
        run then answered "dictionary changed size during iteration"): walk a copy."""
        if (user_handler := self.fm.features.get(types.SHUTDOWN)) is not None:
            yield user_handler, args, None
        current_id = self.msg_id
        for msg_id, future in list(self._request_futures.items()):
            if msg_id != current_id and not future.done():
                future.cancel()
        self._shutdown = True
        return None

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams):
        # A didChange for a document that was never opened: nothing to update, nothing to crash.
        if cast(_Server, self._server).open_document(params.text_document.uri) is None:
            log.warning("didChange for %s, which is not open: ignored", params.text_document.uri)
            return
        yield from super().lsp_text_document__did_change(params)

    @lsp_method(types.WORKSPACE_EXECUTE_COMMAND)
    def lsp_workspace__execute_command(self, params: types.ExecuteCommandParams):
        EXECUTE_PARAMS.set(params)
        EXECUTE_ID.set(self.msg_id)
        return (yield from super().lsp_workspace__execute_command(params))

    def _handle_cancel_notification(self, msg_id):
        event = cast(_Server, self._server).cancel_events.pop(msg_id, None)
        if event is not None:
            event.set()  # kills a profile run
        super()._handle_cancel_notification(msg_id)


def _invalid_params_reason(exc: Exception) -> str:
    """The first thing wrong with the params, in one short line."""
    try:
        from cattrs import transform_error

        found = [line for line in transform_error(exc) if line]
    except Exception:
        found = []
    reason = found[0] if found else str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return reason[:200]
