"""What the demo dataset is made of: its event definitions, the choices their
enumeration properties offer (with how often each is picked), and the lists names are
drawn from. Data only; `demo_plan` draws from it and `demo` writes what was drawn.

Every enumeration property is built from the same tuples the generator picks from, so
a generated value is always one of the property's options.
"""

from __future__ import annotations

from typing import Any

# (label, value, relative weight): an option, and how often the generator picks it.
Choice = tuple[str, str, float]

PLANS: tuple[Choice, ...] = (
    ("Starter", "starter", 50),
    ("Professional", "professional", 38),
    ("Enterprise", "enterprise", 12),
)
BILLING_PERIODS: tuple[Choice, ...] = (("Monthly", "monthly", 62), ("Annual", "annual", 38))
SIGNUP_SOURCES: tuple[Choice, ...] = (
    ("Organic search", "organic_search", 30),
    ("Paid search", "paid_search", 22),
    ("Social", "social", 12),
    ("Referral", "referral", 14),
    ("Webinar", "webinar", 8),
    ("Direct", "direct", 14),
)
FEATURES: tuple[Choice, ...] = (
    ("Dashboards", "dashboards", 30),
    ("Reports", "reports", 25),
    ("Workflows", "workflows", 18),
    ("Integrations", "integrations", 12),
    ("API", "api", 7),
    ("Mobile app", "mobile_app", 8),
)
CURRENCIES: tuple[Choice, ...] = (
    ("US dollar", "USD", 70),
    ("Euro", "EUR", 20),
    ("Pound sterling", "GBP", 10),
)
TICKET_CATEGORIES: tuple[Choice, ...] = (
    ("Billing", "billing", 15),
    ("Bug", "bug", 30),
    ("How-to", "how_to", 30),
    ("Feature request", "feature_request", 15),
    ("Account", "account", 10),
)
PRIORITIES: tuple[Choice, ...] = (
    ("Low", "low", 30),
    ("Medium", "medium", 45),
    ("High", "high", 20),
    ("Urgent", "urgent", 5),
)
PACKAGES: tuple[Choice, ...] = (
    ("Self-serve", "self_serve", 1),
    ("Guided", "guided", 1),
    ("White glove", "white_glove", 1),
)

# Per seat and month in US dollars; seats a purchase of each plan ranges over; the
# package a company onboards with; what a dollar is worth in each currency.
PRICES = {"starter": 20, "professional": 50, "enterprise": 120}
SEATS = {"starter": (1, 5), "professional": (3, 25), "enterprise": (20, 150)}
PACKAGE_OF_PLAN = {"starter": "self_serve", "professional": "guided", "enterprise": "white_glove"}
RATES = {"USD": 1.0, "EUR": 0.92, "GBP": 0.79}
ANNUAL_DISCOUNT = 0.8  # paid yearly: twelve months at a fifth off


def _enum(name: str, label: str, choices: tuple[Choice, ...]) -> dict[str, Any]:
    options = [{"label": lab, "value": value} for lab, value, _ in choices]
    return {"name": name, "label": label, "type": "enumeration", "options": options}


def _prop(name: str, label: str, kind: str, description: str = "") -> dict[str, Any]:
    return {"name": name, "label": label, "type": kind, "description": description}


# HubSpot's definition bodies (POST /events/v3/event-definitions), in funnel order.
DEMO_DEFINITIONS: tuple[dict[str, Any], ...] = (
    {
        "name": "viewed_pricing_page",
        "label": "Viewed pricing page",
        "description": "A visitor opened the pricing page.",
        "propertyDefinitions": [
            _enum("plan", "Plan", PLANS),
            _enum("billing_period", "Billing period", BILLING_PERIODS),
        ],
    },
    {
        "name": "watched_demo_video",
        "label": "Watched demo video",
        "description": "Someone played a product video.",
        "propertyDefinitions": [
            _prop("video_name", "Video name", "string"),
            _prop("percent_watched", "Percent watched", "number"),
            _prop("watched_to_end", "Watched to the end", "bool"),
        ],
    },
    {
        "name": "attended_webinar",
        "label": "Attended webinar",
        "description": "A registrant joined a live webinar.",
        "propertyDefinitions": [
            _prop("webinar_name", "Webinar name", "string"),
            _prop("webinar_starts_at", "Webinar start", "datetime"),
            _prop("asked_question", "Asked a question", "bool"),
        ],
    },
    {
        "name": "started_trial",
        "label": "Started trial",
        "description": "A free trial began.",
        "propertyDefinitions": [
            _enum("plan", "Plan", PLANS),
            _prop("trial_length_days", "Trial length (days)", "number"),
            _prop("trial_ends_on", "Trial ends on", "date"),
            _enum("signup_source", "Sign-up source", SIGNUP_SOURCES),
        ],
    },
    {
        "name": "used_feature",
        "label": "Used feature",
        "description": "A trial user or customer used part of the product.",
        "propertyDefinitions": [
            _enum("feature", "Feature", FEATURES),
            _prop("session_minutes", "Session minutes", "number"),
        ],
    },
    {
        "name": "clicked_buy_button",
        "label": "Clicked buy button",
        "description": "A trial user clicked Buy on the checkout page.",
        "propertyDefinitions": [
            _enum("plan", "Plan", PLANS),
            _enum("billing_period", "Billing period", BILLING_PERIODS),
            _prop("seats", "Seats", "number"),
            _prop("amount", "Amount", "number", "Order total in the chosen currency."),
            _enum("currency", "Currency", CURRENCIES),
        ],
    },
    {
        "name": "submitted_support_ticket",
        "label": "Submitted support ticket",
        "description": "A user asked support for help.",
        "propertyDefinitions": [
            _enum("category", "Category", TICKET_CATEGORIES),
            _enum("priority", "Priority", PRIORITIES),
            _prop("subject", "Subject", "string"),
        ],
    },
    {
        "name": "completed_onboarding",
        "label": "Completed onboarding",
        "description": "A customer company went live.",
        "primaryObject": "COMPANY",
        "propertyDefinitions": [
            _enum("onboarding_package", "Onboarding package", PACKAGES),
            _prop("seats", "Seats", "number"),
            _prop("days_to_go_live", "Days to go live", "number"),
        ],
    },
)
COMPANY_EVENT = "completed_onboarding"

FIRST_NAMES = (
    "Ada Alan Amara Ana Andrea Ben Bianca Carlos Chen Chloé Daniel Dev Elena Emma Farah "
    "Felix Grace Hana Hugo Ibrahim Ines Isaac Jamal Jana Jonas Julia Kai Kenji Laila Leo "
    "Lina Lucas Maya Mei Mia Mohammed Nadia Nia Noah Nora Olga Omar Oscar Priya Rafael "
    "Rosa Sam Sara Sofia Tariq Theo Uma Victor Wei Yara Yusuf Zoë Zofia Mateo Aiko"
).split()
LAST_NAMES = (
    "Adams Ahmed Alvarez Andersen Baker Becker Bianchi Brown Chen Costa Dubois Evans "
    "Fischer García Gupta Hansen Hoffmann Ito Jansen Johnson Kim Kowalski Kumar Larsen "
    "Lee López Martin Meyer Moreau Müller Nakamura Nguyen Novak O'Brien Okafor Patel "
    "Pereira Petrov Rossi Santos Schmidt Silva Singh Smith Sato Tanaka Taylor Walker "
    "Wang Weber Williams Wilson Wójcik Yamamoto Young Zhang Ibáñez Haddad Mensah Lindqvist"
).split()
COMPANY_WORDS = (
    "Blue Harbor Northwind Bright Cedar Copper Summit Orbit Maple Granite Lumen Pioneer "
    "Silver Atlas Vertex Willow Beacon Crimson Evergreen Falcon Juniper Meridian Nimbus "
    "Quartz Redwood Sable Tidal Velvet Zephyr Aurora Kestrel Linden"
).split()
COMPANY_KINDS = (
    "Labs Logistics Health Analytics Studio Systems Foods Robotics Media Software Energy "
    "Partners Retail Finance Works Travel Bio Learning"
).split()
# RFC 2606 names: demo addresses can never reach a real mailbox.
PERSONAL_DOMAINS = ("mail.example", "inbox.example", "post.example")
COMPANY_DOMAIN_SUFFIX = ".example"
VIDEOS: tuple[tuple[str, float], ...] = (
    ("Product tour in 5 minutes", 5),
    ("Building your first dashboard", 3),
    ("Automating follow-ups with workflows", 2),
    ("Connecting your CRM", 2),
    ("Customer story: a 40% faster close", 1),
    ("Reporting deep dive", 1),
)
WEBINARS = (
    "Getting started with behavioral events",
    "Pricing pages that convert",
    "Attribution without the guesswork",
    "From trial to customer: onboarding playbooks",
    "Quarterly product update",
)
TICKET_SUBJECTS = {
    "billing": ("Invoice shows the wrong VAT number", "Charged twice this month"),
    "bug": ("Dashboard chart does not load", "Export stops at 10,000 rows"),
    "how_to": ("How do I invite my team?", "Where do I find the API key?"),
    "feature_request": ("Please add Slack alerts", "Dark mode for reports"),
    "account": ("Transfer ownership to a colleague", "Cannot reset my password"),
}

# Relative traffic by weekday (Monday first) and by hour of the day (UTC).
WEEKDAY_WEIGHTS = (1.0, 0.97, 0.95, 0.92, 0.8, 0.3, 0.25)
HOUR_WEIGHTS = (
    *(0.14, 0.1, 0.08, 0.07, 0.08, 0.12, 0.25, 0.5, 0.8, 1.0, 1.0, 0.95),
    *(0.8, 0.9, 1.0, 0.95, 0.85, 0.7, 0.55, 0.45, 0.4, 0.35, 0.3, 0.2),
)
