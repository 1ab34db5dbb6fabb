"""Whether autograd records a forward pass: contexts, decorators, module switches and callers
(two levels), with the counterexamples that keep it on."""

from __future__ import annotations

import pytest
from flow_helpers import node_of

from memlens.flow.grad import detached, grad_at, trains

FORWARD = "model($X)"


@pytest.mark.parametrize("source", [
    "with torch.no_grad():\n    out = model(x)",
    "with torch.inference_mode():\n    out = model(x)",
    "with torch.set_grad_enabled(False):\n    out = model(x)",
    "with no_grad(), open(p) as f:\n    out = model(x)",
    "@torch.no_grad()\ndef predict(x):\n    return model(x)",
    "@torch.inference_mode()\ndef predict(x):\n    return model(x)",
    "torch.set_grad_enabled(False)\nout = model(x)",
    # every caller runs it under no_grad (one level)
    "def step(x):\n    return model(x)\nwith torch.no_grad():\n    a = step(1)\n    b = step(2)",
    "class E:\n    def run(self, x):\n        return model(x)\n"
    "    @torch.no_grad()\n    def go(self):\n        return self.run(1)",
    # two levels: the callers' callers run it under no_grad
    "def batch(x):\n    return model(x)\ndef epoch(xs):\n    return [batch(x) for x in xs]\n"
    "def decode(xs):\n    with torch.no_grad():\n        a = epoch(xs)\n"
    "    with torch.no_grad():\n        b = epoch(xs)\n    return a, b",
])
def test_autograd_off(source):
    state = grad_at(node_of(source, FORWARD)[1])
    assert not state.on, state.why


@pytest.mark.parametrize("source", [
    "model.eval()\nout = model(x)",
    "def predict_fn(texts):\n    model.eval()\n    return model(encode(texts)).softmax(-1)",
    # one caller with no_grad, one without: still on for the second
    "def step(x):\n    return model(x)\nwith torch.no_grad():\n    a = step(1)\nb = step(2)",
    # two levels, and one of the outer calls runs with autograd on
    "def batch(x):\n    return model(x)\ndef epoch(xs):\n    return [batch(x) for x in xs]\n"
    "def decode(xs):\n    with torch.no_grad():\n        a = epoch(xs)\n    b = epoch(xs)\n"
    "    return a, b",
    # three levels: not followed that far (the outermost no_grad is not seen)
    "def batch(x):\n    return model(x)\ndef epoch(xs):\n    return [batch(x) for x in xs]\n"
    "def run(xs):\n    return epoch(xs)\n"
    "def decode(xs):\n    with torch.no_grad():\n        return run(xs)",
    # the no_grad block ended before the call
    "with torch.no_grad():\n    pass\nout = model(x)",
    # switched back on
    "torch.set_grad_enabled(False)\ntorch.set_grad_enabled(True)\nout = model(x)",
    # enable_grad is not a no_grad
    "with torch.enable_grad():\n    out = model(x)",
])
def test_autograd_on(source):
    assert grad_at(node_of(source, FORWARD)[1]).on


def test_training_code_needs_gradients():
    root, node = node_of("def train(x):\n    loss = model(x).sum()\n    loss.backward()",
                         FORWARD)
    assert trains(root)
    root, node = node_of("def evaluate(x):\n    return model(x).argmax(-1)", FORWARD)
    assert not trains(root)


@pytest.mark.parametrize("source", [
    "pred_real = model(hr).detach()",
    "feats = model(hr).detach().cpu()",
    "real = (model(hr)).detach()",
    # a name whose every read is `.detach()` (srgan's target features)
    "real = model(hr)\nloss = crit(gen, real.detach())\nloss.backward()",
    "def step(x, y):\n    t = model(y)\n    loss = crit(g(x), t.detach())\n    loss.backward()",
])
def test_detached_output(source):
    assert detached(node_of(source, FORWARD)[1])


@pytest.mark.parametrize("source", [
    # the output feeds the loss as it is
    "real = model(hr)\nloss = crit(gen, real)\nloss.backward()",
    # one read detached, another not
    "real = model(hr)\na = real.detach()\nloss = crit(gen, real)",
    # the input is detached, not the output
    "pred = model(fake.detach())",
    "pred = model(x).detach_",
    # never read: not a detached value (another shape of waste)
    "real = model(hr)",
    # a lambda reads the name: not followed
    "real = model(hr)\nf = lambda: crit(real, y)\nz = real.detach()",
    # unpacked outputs are not followed
    "a, b = model(hr)\nc = a.detach()",
])
def test_not_detached(source):
    assert not detached(node_of(source, FORWARD)[1])
