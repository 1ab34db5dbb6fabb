"""Whether a callee is a torch module (a model), from what the file does with it.

`m(x)` is a forward pass when the file treats `m` as a module: it calls `m.eval()`,
`m.train()`, `m.parameters()`, `m.state_dict()`, `m.load_state_dict(...)` (methods tensors and
frames do not have), builds it with a module constructor (`nn.Linear(...)`, a class of the file
that subclasses a Module, `torchvision.models.resnet50(...)`, `timm.create_model(...)`,
`AutoModel...from_pretrained(...)`), or names it as models are named (`model`, `net`,
`generator`, `G_AB`, `encoder`).
"""

from __future__ import annotations

import re

from ast_grep_py import SgNode

from memlens.flow import syntax as sx

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
                   r"call|forward|compute|calc|do|process|init)_")
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
    root = callee.get_root().root()
    source = root.text()
    escaped = re.escape(text)
    methods = re.search(rf"(?<![\w.]){escaped}\s*\.\s*({'|'.join(_MODULE_METHODS)})\s*\(",
                        source)
    if methods and methods.group(1) == "eval" and not re.match(
            r"\s*\)", source[methods.end():]):
        methods = None  # DataFrame.eval("c = a + b") takes an expression; Module.eval() none
    if methods:
        return f"{text}.{methods.group(1)}() is called"
    for value in _assigned_values(root, text):
        value_text = value.text()
        if _NOT_A_MODEL.search(value_text) or _PIPELINE.search(value_text):
            return None
        if _CONSTRUCTOR.search(value_text) or _constructs_local_module(root, value):
            return f"{text} is built by {value_text.split('(')[0]}()"
    if text.startswith("self.") and _in_module_class(callee) and \
            any(v.kind() == "call" for v in _assigned_values(root, text)):
        return f"{text} is a submodule"
    if text.isidentifier() and _defines_function(root, text):
        return None  # `def unet_block(...)`: a function of this file
    if (_MODEL_NAME.match(text) and not _VERB.match(text)) or _MODEL_LETTERS.match(text):
        return f"{text} is named as a model"
    return None


def _defines_function(root: SgNode, name: str) -> bool:
    if f"def {name}" not in root.text():
        return False
    return any((defined := fn.field("name")) is not None and defined.text() == name
               for fn in root.find_all(kind="function_definition"))


def _assigned_values(root: SgNode, target: str) -> list[SgNode]:
    out: list[SgNode] = []
    pattern = re.compile(rf"(?<![\w.]){re.escape(target)}\s*=(?!=)")
    if not pattern.search(root.text()):
        return out
    for assignment in root.find_all(kind="assignment"):
        left = assignment.field("left")
        right = assignment.field("right")
        if left is not None and right is not None and left.text() == target:
            out.append(right)
    return out


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
