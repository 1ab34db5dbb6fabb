"""ML501's tiers: a forward pass per batch of a data loop, outside training, is a warning; a
detached pass of a training step (a GAN's target features) is a hint, since whether its graph
moves the step's peak depends on the models' sizes."""

from __future__ import annotations

import textwrap

from memlens.engine import Engine, Settings

ENGINE = Engine(Settings(select=["ML501"]))


def _tiers(src: str) -> dict[int, str]:
    found = ENGINE.check_source(textwrap.dedent(src), "m.py")
    return {f.start.line + 1: f.severity for f in found if f.code == "ML501"}


def test_a_detached_pass_of_a_training_step_is_a_hint():
    assert _tiers("""\
    import torch
    vgg = torchvision.models.vgg19(pretrained=True)
    vgg.eval()
    for i, imgs in enumerate(dataloader):
        real = vgg(imgs["hr"]).detach()
        loss = crit(vgg(generator(imgs["lr"])), real)
        loss.backward()
        optimizer.step()
    """) == {5: "hint"}


def test_an_evaluation_loop_is_a_warning():
    assert _tiers("""\
    import torch
    vgg = torchvision.models.vgg19(pretrained=True)
    vgg.eval()
    preds = []
    for i, imgs in enumerate(dataloader):
        preds.append(vgg(imgs["hr"]))
    """) == {6: "warning"}
