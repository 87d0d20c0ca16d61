"""AWS service APIs on ``POST /``, beside the Lambda API on the same port: SQS and SNS.

botocore sends both to the endpoint's root: SQS as JSON with ``X-Amz-Target:
AmazonSQS.<Operation>``, SNS as a form with ``Action=``. A request is theirs when it
says so, by that header or by the service in its SigV4 credential scope
(``Credential=AKID/20240101/us-east-1/sns/aws4_request``); an unsigned form POST to
``/`` stays with the API Gateway routes, which may well own ``POST /``.
"""

from __future__ import annotations

import re

from emulator.surfaces.asgi import Receive, Scope, Send, header
from emulator.surfaces.sns import SnsSurface
from emulator.surfaces.sqs import SqsSurface
from emulator.wire.sqs_json import TARGET_PREFIX

_SCOPE_SERVICE = re.compile(r"Credential=[^/,]+/\d{8}/[^/,]+/(?P<service>[a-z0-9-]+)/aws4_request")


def aws_service(scope: Scope) -> str | None:
    """``"sqs"``, ``"sns"`` or ``None``: whose API a ``POST /`` is calling."""
    if (header(scope, b"x-amz-target") or "").startswith(TARGET_PREFIX):
        return "sqs"
    match = _SCOPE_SERVICE.search(header(scope, b"authorization") or "")
    service = match["service"] if match else None
    return service if service in ("sqs", "sns") else None


class AwsServicesSurface:
    def __init__(self, sqs: SqsSurface, sns: SnsSurface) -> None:
        self.sqs = sqs
        self.sns = sns

    async def __call__(self, scope: Scope, receive: Receive, send: Send, service: str) -> None:
        if service == "sns":
            await self.sns(scope, receive, send)
        else:
            target = header(scope, b"x-amz-target") or ""
            # Without the header it is the query protocol of SDKs from before 2023, which emu does not speak.
            operation = target[len(TARGET_PREFIX):] if target.startswith(TARGET_PREFIX) else "(query protocol)"
            await self.sqs(scope, receive, send, operation)
