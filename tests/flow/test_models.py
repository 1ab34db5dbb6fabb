"""Whether a callee is a torch module: what the file does with it, with the counterexamples
(functions named for what they make, classes, pandas' eval, tokenizers)."""

from __future__ import annotations

import pytest
from flow_helpers import node_of

from memlens.flow.models import model_evidence


def _callee(source: str, call: str):
    root, node = node_of(source, call)
    return model_evidence(node.field("function"))


@pytest.mark.parametrize("source, call", [
    ("m = load()\nm.eval()\nm(x)", "m(x)"),
    ("m = load()\nopt = SGD(m.parameters())\nm(x)", "m(x)"),
    ("import torch.nn as nn\nhead = nn.Linear(4, 2)\nhead(x)", "head(x)"),
    ("from torch import nn\nclass Net(nn.Module):\n    pass\nnet2 = Net()\nnet2(x)", "net2(x)"),
    ("import torchvision\nr = torchvision.models.resnet50()\nr(x)", "r(x)"),
    ("enc = AutoModel.from_pretrained('bert-base')\nenc(**batch)", "enc(**batch)"),
    ("class A(nn.Module):\n    def __init__(self):\n        self.body = Block()\n"
     "    def run(self, x):\n        return self.body(x)", "self.body(x)"),
    ("model(x)", "model(x)"),
    ("fake = G_AB(real_A)", "G_AB(real_A)"),
    ("z = Enc1(x)", "Enc1(x)"),
    ("out = self.generator(z)", "self.generator(z)"),
    # a sampler's wrapper of the model's forward
    ("x = self.model_fn(x, t)", "self.model_fn(x, t)"),
    # a module instance named like a class the file defines elsewhere: still run
    ("class Generator(nn.Module):\n    pass\ngenerator = Generator()\ngenerator(z)",
     "generator(z)"),
])
def test_a_module(source, call):
    assert _callee(source, call) is not None


@pytest.mark.parametrize("source, call", [
    ("m = get_model()\nm2 = get_model(x)", "get_model(x)"),
    ("df.eval('c = a + b')\ndf('x')", "df('x')"),
    ("tok = AutoTokenizer.from_pretrained('bert')\ntok(text)", "tok(text)"),
    ("x = Net(3)", "Net(3)"),
    ("y = f(x)", "f(x)"),
    ("y = load_model(path)", "load_model(path)"),
    ("cb = callback(x)", "callback(x)"),
    # a class the file defines, named in no CamelCase: built, not run
    ("class Encoder_CNN(nn.Module):\n    pass\nencoder = Encoder_CNN(latent_dim, n_c)",
     "Encoder_CNN(latent_dim, n_c)"),
    ("class MNIST_model(nn.Module):\n    pass\nmodel_2 = MNIST_model(1, 10)",
     "MNIST_model(1, 10)"),
    # named for the model, but a class, a factory or a function that does something to it
    ("model = model_cls(**kwargs)", "model_cls(**kwargs)"),
    ("add_model_args(parser)", "add_model_args(parser)"),
    ("worker = spawn_bundled_infer_model(path)", "spawn_bundled_infer_model(path)"),
])
def test_not_a_module(source, call):
    assert _callee(source, call) is None


@pytest.mark.parametrize("source, call", [
    ("def unet_block(x):\n    pass\ny = unet_block(x)", "unet_block(x)"),
    ("y = _run_model_chunk(x)", "_run_model_chunk(x)"),
    ("y = infer_model(x)", "infer_model(x)"),
    ("p = StableDiffusionPipeline.from_pretrained('sd')\nimg = p(prompt)", "p(prompt)"),
    ("clf = pipeline('sentiment-analysis')\nclf(text)", "clf(text)"),
])
def test_functions_and_pipelines_are_not_forward_passes(source, call):
    assert _callee(source, call) is None


_BEAM = """\
decoder = checkpoint['decoder']
decoder.eval()
def search(words, h):
    h = decoder.init_hidden_state(h)
    while True:
        e = decoder.embedding(words)
        a = decoder.attention(e, h)
        s = decoder.fc(a)
"""


def test_the_first_part_of_a_used_module_is_a_forward_pass():
    assert "part of decoder" in _callee(_BEAM, "decoder.embedding(words)")


def _looped(setup: str, call: str) -> str:
    return f"{setup}\nfor x in loader:\n    y = {call}"


@pytest.mark.parametrize("source, call", [
    # later parts are steps of the same pass; a verb-named method is no part
    (_BEAM, "decoder.attention(e, h)"),
    (_BEAM, "decoder.init_hidden_state(h)"),
    # module and model-wrapper methods that are no submodule's forward pass
    (_looped("m = load()\nm.eval()", "m.to(x)"), "m.to(x)"),
    (_looped("m = load()\nm.eval()", "m.generate(x)"), "m.generate(x)"),
    (_looped("m = load()\nm.eval()", "m.encode(x)"), "m.encode(x)"),
    (_looped("m = load()\nm.eval()", "m.forward(x)"), "m.forward(x)"),
    # a single call, outside any loop
    ("m = load()\nm.eval()\ny = m.fc(x)", "m.fc(x)"),
    # the owner is not put in eval mode (a model the library trains), or known by its name only
    (_looped("m = load()\nopt = SGD(m.parameters())", "m.fc(x)"), "m.fc(x)"),
    (_looped("", "model.fc(x)"), "model.fc(x)"),
    # a frame's eval takes an expression
    (_looped("df = pd.read_csv(p)\ndf.eval('c = a + b')", "df.a(x)"), "df.a(x)"),
    # a class's own parts: a library's building blocks
    ("class A:\n    def f(self, xs):\n        self.body.eval()\n        for x in xs:\n"
     "            y = self.body.head(x)", "self.body.head(x)"),
    # a class's own methods (flair's embeddings call self.eval() and self._embed(batch))
    ("class A:\n    def f(self, xs):\n        self.eval()\n        for x in xs:\n"
     "            self.embed(x)", "self.embed(x)"),
])
def test_not_a_part(source, call):
    assert _callee(source, call) is None
