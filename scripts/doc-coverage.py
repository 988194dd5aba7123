#!/usr/bin/env python3
"""Lists public symbols without a doc comment of their own, from DocC's symbol graphs.

DocC builds with warnings as errors, but it does not warn about an undocumented symbol, so
scripts/docs.sh runs this over the symbol graphs the docc plugin extracted for it. Usage:
doc-coverage.py MODULE SYMBOL-GRAPH-DIR…; exit 1, listing each symbol as file:line, when one
lacks a comment.

Left out, because the language or the standard library documents them and DocC shows that:
synthesized members, members that implement a requirement of another module's protocol
(Codable, Equatable, CustomStringConvertible, Error …: their docComment, when any, comes
from that module) and a result builder's build* methods.
"""
import json
import os
import sys

# Requirements of the standard library's, Foundation's and swift-argument-parser's protocols:
# a member so named is left out only when its type conforms to the protocol.
WITNESSES = {
    "description": {"CustomStringConvertible"}, "debugDescription": {"CustomDebugStringConvertible"},
    "errorDescription": {"LocalizedError"}, "hash(into:)": {"Hashable"}, "hashValue": {"Hashable"},
    "==(_:_:)": {"Equatable", "Hashable", "Comparable"}, "<(_:_:)": {"Comparable"},
    "init(from:)": {"Decodable", "Codable"}, "encode(to:)": {"Encodable", "Codable"},
    "rawValue": {"RawRepresentable"}, "init(rawValue:)": {"RawRepresentable"},
    "allCases": {"CaseIterable"}, "id": {"Identifiable"}, "makeIterator()": {"Sequence"},
    "next()": {"IteratorProtocol"}, "init(stringLiteral:)": {"ExpressibleByStringLiteral"},
    "init(integerLiteral:)": {"ExpressibleByIntegerLiteral"}, "init(floatLiteral:)": {"ExpressibleByFloatLiteral"},
    "init(arrayLiteral:)": {"ExpressibleByArrayLiteral"}, "init(dictionaryLiteral:)": {"ExpressibleByDictionaryLiteral"},
    "init(extendedGraphemeClusterLiteral:)": {"ExpressibleByStringLiteral"},
    "init(unicodeScalarLiteral:)": {"ExpressibleByStringLiteral"},
    "configuration": {"ParsableCommand", "AsyncParsableCommand"},
    "run()": {"ParsableCommand", "AsyncParsableCommand"},
    "validate()": {"ParsableCommand", "AsyncParsableCommand", "ParsableArguments"},
    "init()": {"ParsableCommand", "AsyncParsableCommand", "ParsableArguments"},
}


def undocumented(module, directories):
    found = []
    for directory in directories:
        for root, _, files in os.walk(directory):
            for name in files:
                if not name.endswith(".symbols.json") or not (name == f"{module}.symbols.json" or name.startswith(f"{module}@")):
                    continue
                graph = json.load(open(os.path.join(root, name)))
                parent, conforms = {}, {}
                for relation in graph.get("relationships", []):
                    if relation["kind"] == "memberOf":
                        parent[relation["source"]] = relation["target"]
                    elif relation["kind"] == "conformsTo":
                        target = relation.get("targetFallback") or relation["target"]
                        conforms.setdefault(relation["source"], set()).add(target.split(".")[-1])
                for symbol in graph.get("symbols", []):
                    if symbol.get("accessLevel") not in ("public", "open"):
                        continue
                    precise = symbol["identifier"]["precise"]
                    if "::SYNTHESIZED::" in precise:
                        continue
                    title = symbol["names"]["title"]
                    path = ".".join(symbol["pathComponents"])
                    comment = symbol.get("docComment")
                    own = comment and comment.get("lines") and comment.get("module", module) == module \
                        and any(line["text"].strip() for line in comment["lines"])
                    if own:
                        continue
                    if comment and comment.get("module", module) != module:
                        continue  # inherited from another module's protocol requirement
                    if WITNESSES.get(title, set()) & conforms.get(parent.get(precise), set()):
                        continue
                    if title.startswith("build") and "ScenarioBuilder" in path or "TimelineBuilder" in path and title.startswith("build"):
                        continue  # a result builder's build* methods: the language documents them
                    location = symbol.get("location")
                    where = "?"
                    if location:
                        uri = location["uri"].removeprefix("file://")
                        where = f"{os.path.relpath(uri)}:{location['position']['line'] + 1}"
                    found.append((where, symbol["kind"]["displayName"], path))
    return sorted(set(found))


def main():
    module, directories = sys.argv[1], sys.argv[2:]
    missing = undocumented(module, directories)
    for where, kind, path in missing:
        print(f"{where}: {kind} {path} has no doc comment")
    if missing:
        print(f"doc-coverage: {len(missing)} public symbols of {module} without a doc comment", file=sys.stderr)
        return 1
    print(f"doc-coverage: every public symbol of {module} has a doc comment")
    return 0


if __name__ == "__main__":
    sys.exit(main())
