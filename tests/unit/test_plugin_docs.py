"""Every custom module and action plugin carries DOCUMENTATION, EXAMPLES and RETURN that parse as YAML
(ansible-doc and ansible-lint read them; a stray ': ' in a description breaks them silently)."""
import ast

import pytest
import yaml

from conftest import PLUGINS

FILES = sorted(PLUGINS.glob("modules/*.py")) + sorted(PLUGINS.glob("action/*.py"))


def docs(path):
    out = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            if node.targets[0].id in ("DOCUMENTATION", "EXAMPLES", "RETURN"):
                out[node.targets[0].id] = node.value.value
    return out


@pytest.mark.parametrize("path", FILES, ids=lambda p: "%s/%s" % (p.parent.name, p.name))
def test_documentation_examples_and_return_parse(path):
    found = docs(path)
    assert set(found) == {"DOCUMENTATION", "EXAMPLES", "RETURN"}, path.name
    doc = yaml.safe_load(found["DOCUMENTATION"])
    assert doc["module"] == path.stem and doc["short_description"]
    assert isinstance(yaml.safe_load(found["EXAMPLES"]), list)
    assert isinstance(yaml.safe_load(found["RETURN"]), dict)


@pytest.mark.parametrize("path", sorted(PLUGINS.glob("filter/*.py")), ids=lambda p: "filter/%s" % p.name)
def test_filter_documentation_parses(path):
    # ansible-lint reads a filter file's DOCUMENTATION too; a ': ' inside a description item breaks it.
    found = docs(path)
    if "DOCUMENTATION" in found:
        doc = yaml.safe_load(found["DOCUMENTATION"])
        assert doc["name"] and doc["short_description"], path.name
