#!/usr/bin/env python3
"""Lists every key of a Compose schema (compose-spec's schema/compose-spec.json) with the simplest
value of its shape, as tests/fixtures/compose-schema-keys.json, which tests/dropin.rs walks so that
a key of the format that stackctl does not know cannot go unnoticed. Run it when the format grows:

    scripts/compose-schema-keys.py PATH/TO/compose-spec.json > tests/fixtures/compose-schema-keys.json
"""
import json
import sys

schema = json.load(open(sys.argv[1]))
defs = schema.get("$defs") or schema["definitions"]


def resolve(node):
    while "$ref" in node:
        node = defs[node["$ref"].rsplit("/", 1)[-1]]
    return node


def sample(node):
    node = resolve(node)
    alternatives = node.get("oneOf") or node.get("anyOf")
    if alternatives:
        for kind in ("object", "string", "array", "integer", "number", "boolean"):
            for alt in map(resolve, alternatives):
                t = alt.get("type")
                if t == kind or (isinstance(t, list) and kind in t):
                    return sample(alt)
        return sample(alternatives[0])
    if "enum" in node:
        return node["enum"][0]
    kind = node.get("type", "object")
    if isinstance(kind, list):
        kind = kind[0]
    return {
        "string": "x",
        "integer": 1,
        "number": 1,
        "boolean": True,
        "array": None,
    }.get(kind, {}) if kind != "array" else [sample(node.get("items", {"type": "string"}))]


def walk(node, path, out, depth=0):
    node = resolve(node)
    if depth > 4:
        return
    for alt in node.get("oneOf") or node.get("anyOf") or []:
        walk(alt, path, out, depth + 1)
    for key, child in node.get("properties", {}).items():
        here = path + [key]
        if here not in [p for p, _ in out]:
            out.append((here, sample(child)))
        walk(child, here, out, depth + 1)
    for pattern, child in node.get("patternProperties", {}).items():
        if not pattern.startswith("^x-"):
            walk(child, path + ["n1"], out, depth + 1)


keys = []
walk(defs["service"], ["services", "web"], keys)
for section in ("networks", "volumes", "secrets", "configs"):
    walk(schema["properties"][section], [section], keys)
print(json.dumps([{"path": p, "sample": s} for p, s in keys], indent=0))
