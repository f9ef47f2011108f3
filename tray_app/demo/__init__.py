"""Simulated Anthropic endpoints (OAuth usage, Admin API, claude.ai) on loopback, for --demo and the tests."""

from tray_app.demo.admin import (
    ADMIN_SCENARIOS,
    CLAUDE_CODE_REPORT_PATH,
    COST_REPORT_PATH,
    MESSAGES_REPORT_PATH,
    ORGANIZATION_PATH,
    USERS_PATH,
    WORKSPACES_PATH,
)
from tray_app.demo.admin_data import DEMO_ORGANIZATION_ID, UNITS_PER_CENT, cents_text
from tray_app.demo.admin_query import ADMIN_API_VERSION
from tray_app.demo.claude_web import (
    WEB_API_ORG_NAME,
    WEB_API_ORG_UUID,
    WEB_CHAT_ORG_NAME,
    WEB_CHAT_ORG_UUID,
    WEB_ORGANIZATIONS_PATH,
    WEB_OVERAGE,
    WEB_PREPAID,
    WEB_SCENARIOS,
    web_organizations_body,
)
from tray_app.demo.common import DemoResponse
from tray_app.demo.oauth import (
    CLIENT_ID,
    PROFILE_PATH,
    SCENARIOS,
    TOKEN_PATH,
    USAGE_PATH,
    rising_usage_body,
)
from tray_app.demo.server import DemoServer, RecordedRequest

__all__ = [
    "ADMIN_API_VERSION",
    "ADMIN_SCENARIOS",
    "CLAUDE_CODE_REPORT_PATH",
    "CLIENT_ID",
    "COST_REPORT_PATH",
    "DEMO_ORGANIZATION_ID",
    "MESSAGES_REPORT_PATH",
    "ORGANIZATION_PATH",
    "PROFILE_PATH",
    "SCENARIOS",
    "TOKEN_PATH",
    "UNITS_PER_CENT",
    "USAGE_PATH",
    "USERS_PATH",
    "WEB_API_ORG_NAME",
    "WEB_API_ORG_UUID",
    "WEB_CHAT_ORG_NAME",
    "WEB_CHAT_ORG_UUID",
    "WEB_ORGANIZATIONS_PATH",
    "WEB_OVERAGE",
    "WEB_PREPAID",
    "WEB_SCENARIOS",
    "WORKSPACES_PATH",
    "DemoResponse",
    "DemoServer",
    "RecordedRequest",
    "cents_text",
    "rising_usage_body",
    "web_organizations_body",
]
