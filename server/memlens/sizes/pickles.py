"""What a torch checkpoint's pickle holds at its top, read from its opcodes: never unpickled.

`pickletools.genops` yields the opcodes and their arguments without running any of them; a
small stack machine here follows what each opcode would build, as placeholders: a GLOBAL is
only a name (nothing is imported), a REDUCE only a record of the name it would call. What the
placeholders keep is what the size readers need: the keys of the top-level dict, the storages
(torch's persistent ids `('storage', torch.FloatStorage, key, location, numel)`) under each key,
and a tensor's shape where `_rebuild_tensor_v2` is called with one.

Bounded: the pickle is bytes already read (its size bounded by the caller); at most MAX_OPS
opcodes (about a second), MAX_STACK placeholders on the stack and as many in the memo, and
MAX_WORK storage keys merged into containers (a deep nesting of many storages); past any bound
the walk gives up (None).
"""

from __future__ import annotations

import io
import pickletools
from dataclasses import dataclass, field

MAX_OPS = 300_000  # a checkpoint of 5,000 tensors takes about 60 opcodes per tensor
MAX_STACK = 200_000
MAX_WORK = 2_000_000
MAX_KEYS = 4_096  # a top-level dict's entries kept (a bare state_dict has one per tensor)
_TUPLE_ITEMS = 16  # a tuple's items kept (persistent ids and tensor arguments are short)
_STRING = 512  # the longest string kept as a value

_TENSOR_REBUILDS = {"torch._utils _rebuild_tensor_v2", "torch._utils _rebuild_tensor",
                    "torch._utils _rebuild_tensor_v3"}
_PARAMETER_REBUILDS = {"torch._utils _rebuild_parameter",
                       "torch._utils _rebuild_parameter_with_state"}
_DICTS = {"collections OrderedDict": "OrderedDict", "builtins dict": "dict",
          "__builtin__ dict": "dict"}
# torch's storage classes, by the name their GLOBAL gives
_DTYPES = {
    "FloatStorage": "float32", "DoubleStorage": "float64", "HalfStorage": "float16",
    "BFloat16Storage": "bfloat16", "LongStorage": "int64", "IntStorage": "int32",
    "ShortStorage": "int16", "CharStorage": "int8", "ByteStorage": "uint8",
    "BoolStorage": "bool", "ComplexFloatStorage": "complex64",
    "ComplexDoubleStorage": "complex128", "QInt8Storage": "qint8", "QUInt8Storage": "quint8",
    "QInt32Storage": "qint32", "Float8_e4m3fnStorage": "float8_e4m3fn",
    "Float8_e5m2Storage": "float8_e5m2", "UntypedStorage": "uint8",
}


class GaveUp(Exception):
    pass


class _Obj:
    """A placeholder for what an opcode would build."""

    __slots__ = ("kind", "value", "items", "storages", "tensor")

    def __init__(self, kind: str, value=None):
        self.kind = kind  # atom, global, tuple, list, dict, set, storage, tensor, object
        self.value = value  # an atom's value, a global's or a call's name, a dict's label
        self.items: list | None = None  # a tuple's items, a dict's (key, value) pairs
        self.storages: set[str] | None = None  # the storage keys under it
        self.tensor: tuple | None = None  # (storage key, shape) of a tensor


@dataclass
class Storage:
    key: str
    dtype: str | None
    numel: int | None


@dataclass
class Entry:
    key: str
    storages: set[str]
    shape: tuple[int, ...] | None = None  # the entry is one tensor of this shape
    tensor_storage: str | None = None


@dataclass
class Walk:
    container: str  # dict, OrderedDict, tensor, list, tuple, an object's class, or "other"
    entries: list[Entry] = field(default_factory=list)
    storages: dict[str, Storage] = field(default_factory=dict)
    complete: bool = True  # False: more top-level keys than MAX_KEYS


def walk(data: bytes) -> Walk | None:
    """The top of a torch pickle, or None when it cannot be followed within the bounds (or it
    is not a pickle at all)."""
    try:
        return _Machine().run(data)
    except (GaveUp, ValueError, TypeError, KeyError, IndexError, AttributeError, EOFError,
            OverflowError, RecursionError, MemoryError, UnicodeDecodeError):
        return None


class _Machine:
    def __init__(self):
        self.stack: list = []
        self.marks: list[int] = []
        self.memo: dict[int, _Obj] = {}
        self.work = 0
        self.storages: dict[str, Storage] = {}

    # --- helpers -------------------------------------------------------------------------
    def push(self, obj: _Obj) -> None:
        if len(self.stack) >= MAX_STACK:
            raise GaveUp("too many objects")
        self.stack.append(obj)

    def pop(self) -> _Obj:
        obj = self.stack.pop()
        if obj is _MARK:
            raise GaveUp("a mark where an object was due")
        return obj

    def pop_mark(self) -> list[_Obj]:
        """The objects above the last mark; the mark goes too."""
        if not self.marks:
            raise GaveUp("no mark")
        at = self.marks.pop()
        items = self.stack[at + 1:]
        del self.stack[at:]
        return items

    def merge(self, into: _Obj, children) -> None:
        for child in children:
            if child.storages:
                if into.storages is None:
                    into.storages = set()
                self.work += len(child.storages)
                if self.work > MAX_WORK:
                    raise GaveUp("too much nesting")
                into.storages |= child.storages

    def container(self, kind: str, children=(), value=None) -> _Obj:
        obj = _Obj(kind, value)
        if kind == "tuple":
            obj.items = list(children[:_TUPLE_ITEMS])
        elif kind == "dict":
            obj.items = []
        self.merge(obj, children)
        return obj

    @staticmethod
    def top(stack) -> _Obj:
        obj = stack[-1]
        if obj is _MARK:
            raise GaveUp("a mark where an object was due")
        return obj

    def set_items(self, target: _Obj, pairs: list[_Obj]) -> None:
        if len(pairs) % 2:
            raise GaveUp("an odd number of items")
        if target.kind == "dict" and target.items is not None:
            room = MAX_KEYS + 1 - len(target.items)
            for i in range(0, min(len(pairs), 2 * max(room, 0)), 2):
                target.items.append((pairs[i], pairs[i + 1]))
        self.merge(target, pairs)

    # --- the machine ---------------------------------------------------------------------
    def run(self, data: bytes) -> Walk:
        ops = 0
        handlers = _HANDLERS
        stack = self.stack
        for opcode, arg, _pos in pickletools.genops(io.BytesIO(data)):
            ops += 1
            if ops > MAX_OPS:
                raise GaveUp("too many opcodes")
            name = opcode.name
            handler = handlers.get(name)
            if handler is not None:
                handler(self, arg)
            elif name in _ATOMS:
                if len(stack) >= MAX_STACK:
                    raise GaveUp("too many objects")
                stack.append(_Obj("atom", _atom(arg)))
            elif name == "STOP":
                break
            else:
                self.generic(opcode)
        else:
            raise GaveUp("no STOP")
        if len(self.stack) != 1:
            raise GaveUp("not one object at the end")
        return self.result(self.top(self.stack))

    def generic(self, opcode) -> None:
        """Any other opcode: its stack effect from pickletools' own description, with the
        storages of what it takes kept in what it leaves."""
        before = opcode.stack_before
        taken: list[_Obj] = []
        count = sum(1 for x in before if x not in (pickletools.markobject,
                                                   pickletools.stackslice))
        for _ in range(count):
            taken.append(self.pop())
        if pickletools.markobject in before:
            taken.extend(self.pop_mark())
        after = [x for x in opcode.stack_after if x is not pickletools.markobject]
        for i in range(len(after)):
            self.push(self.container("object", taken if i == 0 else (), opcode.name))

    def op_MARK(self, arg) -> None:
        self.marks.append(len(self.stack))
        self.push(_MARK)

    def op_POP(self, arg) -> None:
        if self.stack and self.stack[-1] is _MARK:
            self.stack.pop()
            self.marks.pop()
        else:
            self.pop()

    def op_POP_MARK(self, arg) -> None:
        self.pop_mark()

    def op_DUP(self, arg) -> None:
        self.push(self.top(self.stack))

    def op_EMPTY_LIST(self, arg) -> None:
        self.push(self.container("list"))

    def op_EMPTY_TUPLE(self, arg) -> None:
        self.push(self.container("tuple"))

    def op_EMPTY_DICT(self, arg) -> None:
        self.push(self.container("dict", value="dict"))

    def op_EMPTY_SET(self, arg) -> None:
        self.push(self.container("set"))

    def _from_mark(self, kind: str) -> None:
        items = self.pop_mark()
        obj = self.container(kind, items, value="dict" if kind == "dict" else None)
        if kind == "dict":
            self.set_items(obj, items)
        self.push(obj)

    def op_LIST(self, arg) -> None:
        self._from_mark("list")

    def op_TUPLE(self, arg) -> None:
        self._from_mark("tuple")

    def op_DICT(self, arg) -> None:
        self._from_mark("dict")

    def op_FROZENSET(self, arg) -> None:
        self._from_mark("set")

    def _tuple_n(self, n: int) -> None:
        items = [self.pop() for _ in range(n)][::-1]
        self.push(self.container("tuple", items))

    def op_TUPLE1(self, arg) -> None:
        self._tuple_n(1)

    def op_TUPLE2(self, arg) -> None:
        self._tuple_n(2)

    def op_TUPLE3(self, arg) -> None:
        self._tuple_n(3)

    def op_APPEND(self, arg) -> None:
        item = self.pop()
        self.merge(self.top(self.stack), [item])

    def op_APPENDS(self, arg) -> None:
        items = self.pop_mark()
        self.merge(self.top(self.stack), items)

    op_ADDITEMS = op_APPENDS

    def op_SETITEM(self, arg) -> None:
        value = self.pop()
        key = self.pop()
        self.set_items(self.top(self.stack), [key, value])

    def op_SETITEMS(self, arg) -> None:
        items = self.pop_mark()
        self.set_items(self.top(self.stack), items)

    def op_BUILD(self, arg) -> None:
        state = self.pop()
        self.merge(self.top(self.stack), [state])

    def _put(self, index: int) -> None:
        if not isinstance(index, int) or index < 0:
            raise GaveUp("a bad memo index")
        if len(self.memo) >= MAX_STACK:
            raise GaveUp("too many objects")
        self.memo[index] = self.top(self.stack)

    def op_PUT(self, arg) -> None:
        self._put(arg)

    op_BINPUT = op_LONG_BINPUT = op_PUT

    def op_MEMOIZE(self, arg) -> None:
        self._put(len(self.memo))

    def op_GET(self, arg) -> None:
        if arg not in self.memo:
            raise GaveUp("a memo entry never put")
        self.push(self.memo[arg])

    op_BINGET = op_LONG_BINGET = op_GET

    def op_GLOBAL(self, arg) -> None:
        self.push(_Obj("global", str(arg)[:_STRING]))

    def op_STACK_GLOBAL(self, arg) -> None:
        name = self.pop()
        module = self.pop()
        self.push(_Obj("global", f"{module.value} {name.value}"[:_STRING]))

    def op_INST(self, arg) -> None:
        items = self.pop_mark()
        self.push(self.container("object", items, str(arg)[:_STRING]))

    def op_OBJ(self, arg) -> None:
        items = self.pop_mark()
        if not items:
            raise GaveUp("OBJ without a class")
        self.push(self.container("object", items, items[0].value))

    def op_NEWOBJ(self, arg) -> None:
        args = self.pop()
        cls = self.pop()
        self._call(cls, args)

    def op_NEWOBJ_EX(self, arg) -> None:
        kwargs = self.pop()
        args = self.pop()
        cls = self.pop()
        self._call(cls, args, kwargs)

    def op_REDUCE(self, arg) -> None:
        args = self.pop()
        function = self.pop()
        self._call(function, args)

    def _call(self, function: _Obj, args: _Obj, *more: _Obj) -> None:
        """What a call would make, named after what it calls; nothing is called."""
        name = function.value if function.kind == "global" else None
        if name in _DICTS:
            obj = self.container("dict", value=_DICTS[name])
            self.merge(obj, [args, *more])
        elif name in _TENSOR_REBUILDS or name in _PARAMETER_REBUILDS:
            obj = self.container("tensor", [args, *more], name)
            items = args.items if args.kind == "tuple" and args.items else []
            first = items[0] if items else None
            if name in _TENSOR_REBUILDS and first is not None and first.kind == "storage":
                size = items[2] if len(items) > 2 else None
                obj.tensor = (first.value.key, _ints(size))
            elif first is not None and first.kind == "tensor":
                obj.tensor = first.tensor
        else:
            obj = self.container("object", [function, args, *more], name)
        self.push(obj)

    def op_BINPERSID(self, arg) -> None:
        self._persistent(self.pop())

    def op_PERSID(self, arg) -> None:
        self._persistent(_Obj("atom", str(arg)[:_STRING]))

    def _persistent(self, pid: _Obj) -> None:
        items = pid.items if pid.kind == "tuple" else None
        if items and len(items) >= 3 and items[0].value == "storage" and \
                isinstance(items[2].value, str) and items[2].kind == "atom":
            key = items[2].value
            kind = items[1].value if items[1].kind == "global" else None
            dtype = _DTYPES.get(kind.rsplit(" ", 1)[-1]) if isinstance(kind, str) else None
            numel = items[4].value if len(items) > 4 else None
            storage = Storage(key, dtype, numel if isinstance(numel, int) else None)
            self.storages.setdefault(key, storage)
            obj = _Obj("storage", storage)
            obj.storages = {key}
        else:
            obj = self.container("object", [pid], "persistent")
        self.push(obj)

    def op_PROTO(self, arg) -> None:
        pass

    op_FRAME = op_READONLY_BUFFER = op_PROTO

    # --- the answer ----------------------------------------------------------------------
    def result(self, root: _Obj) -> Walk:
        if root.kind == "dict":
            pairs = root.items or []  # (a dict's are a list: `container`)
            out = Walk(container=root.value or "dict", storages=self.storages)
            for key, value in pairs[:MAX_KEYS]:
                shape = storage = None
                if value.kind == "tensor" and value.tensor is not None:
                    storage, shape = value.tensor
                out.entries.append(Entry(_key(key), set(value.storages or ()), shape, storage))
            out.complete = len(pairs) <= MAX_KEYS
            return out
        if root.kind == "tensor":
            return Walk(container="tensor", storages=self.storages)
        if root.kind == "object" and root.value:
            return Walk(container=f"object {root.value}", storages=self.storages)
        return Walk(container=root.kind if root.kind in ("list", "tuple", "set") else "other",
                    storages=self.storages)


_MARK = _Obj("mark")
_HANDLERS = {name[3:]: function for name, function in vars(_Machine).items()
             if name.startswith("op_")}
_ATOMS = frozenset({
    "INT", "BININT", "BININT1", "BININT2", "LONG", "LONG1", "LONG4", "STRING", "BINSTRING",
    "SHORT_BINSTRING", "BINBYTES", "SHORT_BINBYTES", "BINBYTES8", "BYTEARRAY8", "UNICODE",
    "SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "NONE", "NEWTRUE", "NEWFALSE", "FLOAT",
    "BINFLOAT"})


def _atom(arg):
    if isinstance(arg, str):
        return arg[:_STRING]
    if isinstance(arg, (bytes, bytearray)):
        return None
    return arg


def _ints(node: _Obj | None) -> tuple[int, ...] | None:
    if node is None or node.kind != "tuple" or node.items is None:
        return None
    values = tuple(item.value for item in node.items)
    if len(node.items) >= _TUPLE_ITEMS or \
            not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return None
    return values


def _key(node: _Obj) -> str:
    if node.kind == "atom" and isinstance(node.value, (str, int)) and \
            not isinstance(node.value, bool):
        return str(node.value)
    return f"<{node.kind}>"
