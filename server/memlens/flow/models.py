"""Whether a callee is a torch module (a model), from what the file does with it.

`m(x)` is a forward pass when the file treats `m` as a module: it calls `m.eval()`,
`m.train()`, `m.parameters()`, `m.state_dict()`, `m.load_state_dict(...)` (methods tensors and
frames do not have), builds it with a module constructor (`nn.Linear(...)`, a class of the file
that subclasses a Module, `torchvision.models.resnet50(...)`, `timm.create_model(...)`,
`AutoModel...from_pretrained(...)`), or names it as models are named (`model`, `net`,
`generator`, `G_AB`, `encoder`). `m.part(x)` in a loop, where the file puts `m` in eval mode, runs a
submodule (`decoder.embedding(words)` in a beam search): the first such call of `m`'s parts in
a scope only, as the later ones are steps of the same forward pass, and
not the methods modules and models have that are no forward pass (`to()`, `generate()`,
`encode()`, `predict()`).
"""

from __future__ import annotations

import re

from ast_grep_py import SgNode

from memlens.flow import syntax as sx

NAMED = "is named as a model"  # the weakest evidence: the name alone
_MODULE_METHODS = ("eval", "train", "parameters", "named_parameters", "state_dict",
                   "load_state_dict", "modules", "named_modules", "children", "zero_grad",
                   "requires_grad_", "register_forward_hook", "buffers")
_CONSTRUCTOR = re.compile(
    r"(?:^|\.)(?:nn\.\w+|models\.\w+|create_model|from_pretrained|load_model|"
    r"Sequential|ModuleList|DataParallel|DistributedDataParallel|compile)\s*\(")
_NOT_A_MODEL = re.compile(r"(?i)(tokeni[sz]er|processor|feature_?extractor\b(?!s)|config)"
                          r"(?:fast)?\s*\.from_pretrained")
_MODEL_NAME = re.compile(
    r"(?i)^(?:self\.)?(?:[a-z]\w*_)?(?:model|net|network|encoder|decoder|generator|"
    r"discriminator|critic|backbone|classifier|teacher|student|extractor|"
    r"vgg|resnet|bert|vit|clip|unet|vae|transformer|llm|gen|disc)(?:_?[a-z0-9]{1,4})?$")
# G_AB, D_A, E1, Enc2: GAN and autoencoder parts (case matters: `f`, `g` are functions)
_MODEL_LETTERS = re.compile(r"^(?:self\.)?(?:(?:G|D|E)(?:_[A-Z]{1,3}|\d)|Enc\d?|Dec\d?)$")
# `get_model()`, `load_model(path)`: functions named for what they make or do
_VERB = re.compile(r"(?i)^(?:self\.)?_*(?:get|load|build|create|make|init|setup|set|save|train|"
                   r"fit|eval|evaluate|run|infer|predict|prepare|download|compile|export|"
                   r"convert|to|from|is|has|update|reset|register|wrap|apply|freeze|unfreeze|"
                   r"call|forward|compute|calc|do|process|init|add|spawn|start|launch|parse|"
                   r"log|print|show|plot|write|read|check|validate|select|find|copy|merge)_")
# `model_cls(**kw)`, `encoder_type(...)`: a class, factory or setting named for the model, not
# the model (`model_fn(x, t)` stays: samplers wrap the model's forward so)
_NOT_A_MODEL_SUFFIX = re.compile(r"(?i)_(?:cls|class|type|args|cfg|conf|name|path|dir|"
                                 r"factory|builder)$")
# methods a module or a model wrapper has that are not a submodule's forward pass (HF
# `generate` and sentence-transformers' `encode` run under no_grad themselves)
_NOT_A_PART = frozenset({
    "to", "cuda", "cpu", "half", "float", "double", "bfloat16", "type", "apply", "forward",
    "generate", "predict", "predict_proba", "predict_on_batch", "encode", "decode", "transform",
    "score", "fit", "sample", "register_buffer", "register_hook", "add_module", "get_submodule",
    "get_parameter", "save_pretrained", "push_to_hub", "resize_token_embeddings",
    "get_input_embeddings", "get_output_embeddings", "tie_weights", "share_memory",
    "gradient_checkpointing_enable", "set_adapter", "merge_and_unload", "save", "load",
    "compile", "summary", "extra_repr", "requires_grad_", *_MODULE_METHODS})
_PART = re.compile(r"^[a-z_][a-z0-9_]*$")
# pipelines run their own forward passes under no_grad (diffusers, transformers)
_PIPELINE = re.compile(r"(?:Pipeline\w*\.from_pretrained|(?:^|\.)pipeline)\s*\(")
# a CamelCase name called is a class being built, not a forward pass
_CLASS_NAME = re.compile(r"^[A-Z][a-z0-9]+[A-Za-z0-9]*$")
_MODULE_BASE = re.compile(r"\b(?:Module|LightningModule|PreTrainedModel|Sequential)\b")


def model_evidence(callee: SgNode) -> str | None:
    """Why the file treats `callee` (a name or `self.attr`) as a torch module, or None."""
    if callee.kind() not in ("identifier", "attribute"):
        return None
    text = callee.text()
    if _CLASS_NAME.match(text.rsplit(".", 1)[-1]) and not _MODEL_LETTERS.match(text):
        return None
    index = _index_of(callee)
    root, source = index.root, index.source
    if callee.kind() == "identifier" and text in index.classes():
        return None  # a class the file defines (`Encoder_CNN(...)`): built, not run
    methods = index.first_method_call(text)
    if methods and methods.group(2) == "eval" and not re.match(
            r"\s*\)", source[methods.end():]):
        methods = None  # DataFrame.eval("c = a + b") takes an expression; Module.eval() none
    if methods:
        return f"{text}.{methods.group(2)}() is called"
    for value in index.assigned_values(text):
        value_text = value.text()
        if _NOT_A_MODEL.search(value_text) or _PIPELINE.search(value_text):
            return None
        if _CONSTRUCTOR.search(value_text) or _constructs_local_module(root, value):
            return f"{text} is built by {value_text.split('(')[0]}()"
    part = _part_of_module(callee, index)
    if part is not None:
        return part
    if text.startswith("self.") and _in_module_class(callee) and \
            any(v.kind() == "call" for v in index.assigned_values(text)):
        return f"{text} is a submodule"
    if text.isidentifier() and text in index.functions():
        return None  # `def unet_block(...)`: a function of this file
    if (_MODEL_NAME.match(text) and not _VERB.match(text)
            and not _NOT_A_MODEL_SUFFIX.search(text)) or _MODEL_LETTERS.match(text):
        return f"{text} {NAMED}"
    return None


# `NAME.method(` for the module methods, every dotted name of the file in one pass (a search per
# callee over a 6,000-line file cost 20 s)
# (a name written across lines, `self.\n    model`, is the same name)
_METHOD_CALL = re.compile(rf"(?<![\w.])([A-Za-z_]\w*(?:\s*\.\s*[A-Za-z_]\w*)*?)\s*\.\s*"
                          rf"({'|'.join(_MODULE_METHODS)})\s*\(")
_SPACE = re.compile(r"\s+")
_CLASS_DEF = re.compile(r"^[ \t]*class[ \t]+([A-Za-z_]\w*)", re.M)


class _FileIndex:
    """What `model_evidence` asks of one file, read once: the first module-method call of each
    name, its assignments' values, the functions it defines."""

    def __init__(self, root: SgNode):
        self.root = root
        self.source = root.text()
        self._calls: dict[str, re.Match[str]] | None = None
        self._assigned: dict[str, list[SgNode]] | None = None
        self._functions: set[str] | None = None
        self._classes: set[str] | None = None

    def first_method_call(self, name: str) -> re.Match[str] | None:
        if self._calls is None:
            self._calls = {}
            for match in _METHOD_CALL.finditer(self.source):
                self._calls.setdefault(_SPACE.sub("", match.group(1)), match)
        return self._calls.get(_SPACE.sub("", name))

    def assigned_values(self, target: str) -> list[SgNode]:
        if self._assigned is None:
            self._assigned = {}
            for assignment in self.root.find_all(kind="assignment"):
                left = assignment.field("left")
                right = assignment.field("right")
                if left is not None and right is not None:
                    self._assigned.setdefault(left.text(), []).append(right)
        return self._assigned.get(target, [])

    def classes(self) -> set[str]:
        """The names of the classes the file defines (read from the text, once)."""
        if self._classes is None:
            self._classes = set(_CLASS_DEF.findall(self.source))
        return self._classes

    def functions(self) -> set[str]:
        if self._functions is None:
            self._functions = {name.text() for fn in self.root.find_all(
                kind="function_definition") if (name := fn.field("name")) is not None}
        return self._functions


def _index_of(callee: SgNode) -> _FileIndex:
    return sx.per_tree(callee, _FileIndex)  # built once per parsed file


def _part_of_module(callee: SgNode, index: _FileIndex) -> str | None:
    """`m.part` of `m.part(x)`: a submodule of a module the file uses as one, and the first
    call of `m`'s parts in its scope."""
    if callee.kind() != "attribute":
        return None
    owner, attr = callee.field("object"), callee.field("attribute")
    if owner is None or attr is None or owner.kind() not in ("identifier", "attribute"):
        return None
    name = attr.text()
    if not _PART.match(name) or name in _NOT_A_PART or _VERB.match(name + "_") or \
            _VERB.match(name):
        return None
    if owner.text().split(".")[0] in ("self", "cls") or not _in_loop(callee):
        return None  # a class's own parts, a single call: a library's building blocks
    # put in eval mode: the file runs it for inference (a library's methods of a model it
    # trains are parts of a training forward)
    methods = index.first_method_call(owner.text())
    if methods is None or methods.group(2) != "eval" or not re.match(
            r"\s*\)", index.source[methods.end():]):
        return None
    why = f"{owner.text()}.eval() is called"
    for call in sx.scope_of(callee).find_all(kind="call"):
        function = call.field("function")
        if function is None or function.kind() != "attribute":
            continue
        if function == callee:
            return f"{callee.text()} is a part of {owner.text()} ({why})"
        first_owner, first_attr = function.field("object"), function.field("attribute")
        if first_owner is not None and first_attr is not None and \
                first_owner.text() == owner.text() and _PART.match(first_attr.text()) and \
                first_attr.text() not in _NOT_A_PART and not _VERB.match(first_attr.text()) \
                and not _VERB.match(first_attr.text() + "_") and \
                not sx.in_nested_scope(call, sx.scope_of(callee)):
            return None  # an earlier part of the same forward pass is the finding
    return None


def _in_loop(node: SgNode) -> bool:
    """Inside a loop of its own function (or of the module)."""
    for ancestor in node.ancestors():
        kind = ancestor.kind()
        if kind in ("for_statement", "while_statement"):
            return True
        if kind in ("function_definition", "lambda", "class_definition"):
            return False
    return False


def _constructs_local_module(root: SgNode, value: SgNode) -> bool:
    """`value` calls a class of this file that subclasses a torch Module."""
    if value.kind() != "call":
        return False
    name = sx.call_name(value).rsplit(".", 1)[-1]
    for cls in root.find_all(kind="class_definition"):
        cls_name = cls.field("name")
        if cls_name is not None and cls_name.text() == name:
            bases = cls.field("superclasses")
            return bases is not None and _MODULE_BASE.search(bases.text()) is not None
    return False


def _in_module_class(node: SgNode) -> bool:
    for ancestor in node.ancestors():
        if ancestor.kind() == "class_definition":
            bases = ancestor.field("superclasses")
            return bases is not None and _MODULE_BASE.search(bases.text()) is not None
    return False
