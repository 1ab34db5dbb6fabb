"""In-process checks of the static parts: finding code objects and reading the target file."""

import ast
import textwrap

from memlens.profiler import source
from memlens.profiler.target import codefind

SOURCE = textwrap.dedent('''\
    import functools


    def outer():
        def inner(x):
            return x
        return inner


    class Model:
        @functools.cache
        def fit(self, epochs=1):
            return epochs


    def needs(a, *, b):
        return a, b


    if "__main__" == __name__:
        outer()
''')


def test_find_code_by_qualname_nested_and_method():
    module = compile(SOURCE, "/tmp/x.py", "exec")
    assert codefind.find_code(module, "outer", SOURCE).co_firstlineno == 4
    assert codefind.find_code(module, "outer.inner", SOURCE).co_name == "inner"
    assert codefind.find_code(module, "outer.<locals>.inner", SOURCE).co_name == "inner"
    fit = codefind.find_code(module, "Model.fit", SOURCE)
    assert fit.co_name == "fit" and fit.co_firstlineno == 11  # the decorator's line
    assert codefind.find_code(module, "Model.predict", SOURCE) is None


def test_ast_qualnames_used_on_python_3_10():
    table = codefind._ast_qualnames(ast.parse(SOURCE))
    assert table == {"outer": [4], "outer.<locals>.inner": [5], "Model.fit": [11],
                     "needs": [16]}


def test_source_facts():
    tree = ast.parse(SOURCE)
    infos = {f.qualname: f for f in source.functions(tree)}
    assert list(infos) == ["outer", "outer.inner", "Model.fit", "needs"]
    assert infos["Model.fit"].in_class and (infos["Model.fit"].first_line, infos[
        "Model.fit"].last_line) == (11, 13)
    assert infos["outer"].zero_arg and not infos["needs"].zero_arg
    assert source.has_main_block(tree)  # either operand order
    assert not source.has_main_block(ast.parse("if x == '__main__':\n    pass\n"))
