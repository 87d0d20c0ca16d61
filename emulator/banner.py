"""The table ``emu up`` prints once it is ready: each function and how to reach it."""

from __future__ import annotations

import sys

from emulator.config.model import FunctionSpec, Project

_HOST_PYTHON = "python%d.%d" % sys.version_info[:2]


def _runtime(spec: FunctionSpec) -> str:
    # Python workers run on emu's own interpreter; say so when it is not the one configured.
    if spec.runtime.startswith("python") and spec.runtime != _HOST_PYTHON:
        return f"{spec.runtime} (on {_HOST_PYTHON[6:]})"
    return spec.runtime


def banner(project: Project, url: str) -> str:
    rows = [("FUNCTION", "PROVIDER", "RUNTIME", "MEMORY", "TIMEOUT", "REACH IT AT")]
    for spec in project.functions.values():
        if spec.provider == "gcp":
            trigger = spec.trigger
            reach = f"{url}/{spec.name}"
            if trigger is not None and trigger.kind == "pubsub":
                reach += f"  (and Pub/Sub topic {trigger.topic})"
            elif trigger is not None and trigger.kind == "gcs":
                reach += f"  (and gs://{trigger.bucket} {trigger.event or 'finalized'})"
        else:
            reach = f"{url}/2015-03-31/functions/{spec.name}/invocations"
            extra = [f"{e.route_key}" for e in spec.events if getattr(e, "kind", "") == "api"]
            if spec.url:
                extra.append(f"{url}/lambda-url/{spec.name}/")
            if extra:
                reach += "  (and " + ", ".join(extra) + ")"
        rows.append((spec.name, spec.provider, _runtime(spec), f"{spec.memory} MB", f"{spec.timeout:g} s", reach))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    example = next((n for n, f in project.functions.items() if f.provider == "aws"), "NAME")
    lines += [
        "",
        f"emu is up at {url}  (config: {project.path})",
        f"  boto3:   boto3.client('lambda', endpoint_url='{url}', region_name='{project.settings.region}')",
        f"  aws cli: aws lambda invoke --endpoint-url {url} --function-name {example} out.json",
        "  Ctrl-C stops emu and every worker.",
    ]
    return "\n".join(lines)
