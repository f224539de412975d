"""Run scim2-tester against a SCIM server and print every check as one JSON line.

Usage: python scim_conformance.py <base-url> (the bearer token in SCIM_TOKEN).
"""

import json
import os
import sys

from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import check_server

base_url = sys.argv[1]
http = Client(
    base_url=base_url,
    headers={"Authorization": f"Bearer {os.environ['SCIM_TOKEN']}"},
    timeout=30,
)
client = SyncSCIMClient(http)
for result in check_server(client):
    print(
        json.dumps(
            {
                "title": result.title,
                "status": result.status.name,
                "reason": result.reason,
                "resource_type": result.resource_type,
                "tags": sorted(result.tags),
            }
        ),
        flush=True,
    )
