"""Whether a name's value is cast to half precision later in its scope: examples, and beside
them the counterexamples that must not read as a cast of that value."""

from __future__ import annotations

import pytest
from ast_grep_py import SgRoot
from flow_helpers import name_marked

from memlens.flow.casts import bound_name, later_half, later_single


@pytest.mark.parametrize("source, cast", [
    ("""
    model = AutoModel.from_pretrained(name)  # <-
    model.half()
    """, "model.half()"),
    # under a condition, after the branch that loaded it (alpaca-lora's generate.py)
    ("""
    def load(base, device, load_8bit):
        if device == "cuda":
            model = Llama.from_pretrained(base, torch_dtype=torch.float16)
        else:
            model = Llama.from_pretrained(base, device_map={"": device})  # <-
        model = PeftModel.from_pretrained(model, lora_weights, device_map={"": device})
        model.config.pad_token_id = 0
        if not load_8bit:
            model.half()
        return model
    """, "model.half()"),
    ("""
    m = Net.from_pretrained(p)  # <-
    m = m.to(device).to(torch.bfloat16)
    """, "m.to(device).to(torch.bfloat16)"),
    ("""
    m = Net.from_pretrained(p)  # <-
    m.cuda().eval().half()
    """, "m.cuda().eval().half()"),
    ("""
    m = Net.from_pretrained(p)  # <-
    m.to("cuda", dtype="float16")
    """, 'm.to("cuda", dtype="float16")'),
    ("""
    m = Net.from_pretrained(p)  # <-
    m.bfloat16()
    """, "m.bfloat16()"),
])
def test_a_later_half_cast_of_the_value(source, cast):
    found = later_half(name_marked(source))
    assert found is not None and found.text() == cast


@pytest.mark.parametrize("source", [
    # no cast, or a cast to float32
    """
    model = AutoModel.from_pretrained(name)  # <-
    model.to(device)
    """,
    """
    model = AutoModel.from_pretrained(name)  # <-
    model.float()
    """,
    # the name is bound to another value first: that one is halved
    """
    model = AutoModel.from_pretrained(name)  # <-
    model = Other.from_pretrained(name)
    model.half()
    """,
    # a call that reads the value but is given a part of it, or an expression of it
    """
    model = AutoModel.from_pretrained(name)  # <-
    model = Distilled(model.config)
    model.half()
    """,
    """
    model = AutoModel.from_pretrained(name)  # <-
    model = model.merge_and_unload()
    model.half()
    """,
    # one part of the model, not the value
    """
    model = AutoModel.from_pretrained(name)  # <-
    model.encoder.half()
    """,
    # another name's cast, an attribute named like the variable, a keyword named like it
    """
    model = AutoModel.from_pretrained(name)  # <-
    other.half()
    self.model.half()
    f(model=x.half())
    """,
    # a cast before the load, and one in a nested function that may never run
    """
    def f(name):
        model = Old()
        model.half()
        model = AutoModel.from_pretrained(name)  # <-
        def later():
            model.half()
        return model
    """,
    # `half` as an argument, not a cast of the model
    """
    model = AutoModel.from_pretrained(name)  # <-
    run(model, torch.half)
    """,
])
def test_no_half_cast_of_the_value(source):
    assert later_half(name_marked(source)) is None


@pytest.mark.parametrize("source, line", [
    # iml-packt's Masks_part2: scaled as a pair, cast as a pair in a later cell
    ('''
     X_train, X_test = X_train / 255.0, X_test / 255.0  # <-
     print(X_train.min())
     X_train, X_sample = X_train.astype(np.float32), X_sample.astype(np.float32)
     ''', 4),
    ('''
     x = img / 255  # <-
     x = x.astype("float32")
     ''', 3),
    ('''
     x = img / 255  # <-
     y = x.astype(dtype=numpy.float32)
     ''', 3),
])
def test_a_later_float32_cast_of_the_value(source, line):
    found = later_single(name_marked(source))
    assert found is not None and found.range().start.line + 1 == line


@pytest.mark.parametrize("source", [
    # rebound to something else first
    '''
    x = img / 255  # <-
    x = load()
    x = x.astype(np.float32)
    ''',
    # cast to another dtype
    '''
    x = img / 255  # <-
    x = x.astype(np.float16)
    ''',
    # torch's float(): no copy of a float32 tensor, not numpy's astype
    '''
    x = img / 255  # <-
    x = x.float()
    ''',
    # the other item of the pair is cast, not this one
    '''
    a, b = a / 255, b / 255  # <-
    b = b.astype(np.float32)
    ''',
])
def test_no_later_float32_cast_of_the_value(source):
    assert later_single(name_marked(source)) is None


def test_the_name_an_expression_is_assigned_to():
    root = SgRoot("x = a / 2\np, q = b / 2, c / 2\nf(d / 2)\n", "python").root()
    named = [bound_name(n) for n in root.find_all(pattern="$A / 2")]
    assert [n.text() if n is not None else None for n in named] == ["x", "p", "q", None]
