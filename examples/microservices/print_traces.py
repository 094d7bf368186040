#!/usr/bin/env python3
"""Prints the spans of an OTLP/JSON file (tracewired's file sink, one Export
request per line) grouped by trace, as a tree: service, name, kind."""
import collections
import json
import sys

KINDS = {0: "UNSPECIFIED", 1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER"}


def service_of(resource):
    for a in resource.get("attributes", []):
        if a["key"] == "service.name":
            return a["value"].get("stringValue", "?")
    return "?"


def main(path):
    traces = collections.OrderedDict()
    with open(path) as f:
        for line in f:
            req = json.loads(line)
            for rs in req.get("resourceSpans", []):
                svc = service_of(rs.get("resource", {}))
                for ss in rs.get("scopeSpans", []):
                    for s in ss.get("spans", []):
                        traces.setdefault(s["traceId"], []).append((svc, s))
    for trace_id, spans in traces.items():
        print(f"trace {trace_id} ({len(spans)} spans)")
        children = collections.defaultdict(list)
        ids = {s["spanId"] for _, s in spans}
        for svc, s in spans:
            parent = s.get("parentSpanId", "")
            children[parent if parent in ids else ""].append((svc, s))

        def show(parent, depth):
            for svc, s in sorted(children.get(parent, []), key=lambda x: x[1]["startTimeUnixNano"]):
                kind = s.get("kind", 0)
                kind = KINDS.get(kind, kind) if isinstance(kind, int) else kind.replace("SPAN_KIND_", "")
                status = s.get("status", {}).get("code", 0)
                err = "  ERROR" if status in (2, "STATUS_CODE_ERROR") else ""
                print(f"  {'  ' * depth}{svc:10} {s['name']} [{kind}]{err}")
                show(s["spanId"], depth + 1)

        show("", 0)


if __name__ == "__main__":
    main(sys.argv[1])
