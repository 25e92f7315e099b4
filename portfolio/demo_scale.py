"""The demo at the scale of a big bank (``seed_demo --scale N``): regions and business lines.

A big bank does not run six AI capabilities once: it runs the same products in each region or
business line, each with its own owners, telemetry, thresholds crossed, releases and incidents.
So the scaled demo adds *regions*: the six demo capabilities again (``Contact-centre agent
assist (Ireland)``, slug ``cc-agent-assist-ie``), each with its owner map of eight people, and
the other apps' builders fill them (``productops/management/commands/seed_demo.py`` says which).
A region stands in for the demo context those builders take: its capabilities and owners are
keyed by the *home* capability's slug, so ``releases.demo.seed(region)`` puts the home
capability's releases on the region's copy, driven through the same moves.

The demo logins are organisation-wide (``pm`` aside, who runs three home capabilities), so
``exec``, ``risk`` and the others read every region: the boards meet a portfolio of tens of
capabilities and hundreds of contracts. Idempotent: capabilities are upserted by slug, people by
username, roles with get-or-create.
"""

import random
from dataclasses import dataclass, field

from portfolio.demo import CAPABILITIES, CAPABILITY_ROLES
from portfolio.models import Capability
from productops.demo_people import FIRST_NAMES, LAST_NAMES, person, upsert
from productops.models import RoleAssignment

# (code, name): the code suffixes slugs, metric ids and usernames. Past this list, regions are
# numbered ("Region 17", code r17).
REGIONS = [
    ("ie", "Ireland"),
    ("bb", "Business banking"),
    ("wm", "Wealth management"),
    ("de", "Germany"),
    ("fr", "France"),
    ("es", "Spain"),
    ("us", "United States"),
    ("ca", "Canada"),
    ("hk", "Hong Kong"),
    ("sg", "Singapore"),
    ("ae", "United Arab Emirates"),
    ("in", "India"),
    ("au", "Australia"),
    ("mx", "Mexico"),
    ("pl", "Poland"),
    ("jp", "Japan"),
]
HOME_SLUGS = [data["slug"] for data in CAPABILITIES]


def region_code_and_name(index: int) -> tuple[str, str]:
    if index < len(REGIONS):
        return REGIONS[index]
    return f"r{index + 1}", f"Region {index + 1}"


@dataclass
class Region:
    """One region of the scaled demo, shaped like the demo context the builders take."""

    index: int
    code: str
    name: str
    password_hash: str
    # Keyed by the home capability's slug (``cc-agent-assist``), valued by the region's copy.
    capabilities: dict = field(default_factory=dict)
    owners: dict = field(default_factory=dict)
    # The demo logins hold no role of their own in a region: they read it organisation-wide.
    logins: dict = field(default_factory=dict)
    # What the builders report (contracts: observations generated, written, evaluated...).
    summary: dict = field(default_factory=dict)

    def slug(self, home_slug: str) -> str:
        return f"{home_slug}-{self.code}"

    def metric_id(self, home_metric_id: str) -> str:
        """``cc_agent_assist.repeat_contact_7d`` -> ``cc_agent_assist_ie.repeat_contact_7d``."""
        family, rest = home_metric_id.split(".", 1)
        return f"{family}_{self.code}.{rest}"


def region_seed(context, index: int) -> Region:
    """Create or update region ``index``: the six capabilities and their owner maps."""
    code, name = region_code_and_name(index)
    region = Region(index=index, code=code, name=name, password_hash=context.password_hash)
    rng = random.Random(f"scale-people-{code}")
    names = [(first, last) for first in FIRST_NAMES for last in LAST_NAMES]
    rng.shuffle(names)
    for data in CAPABILITIES:
        home = data["slug"]
        fields = {key: value for key, value in data.items() if key != "slug"}
        fields["name"] = f"{data['name']} ({name})"
        capability = upsert(Capability, {"slug": region.slug(home)}, fields)
        region.capabilities[home] = capability
        for role in CAPABILITY_ROLES:
            first, last = names.pop()
            username = f"{home.split('-')[0]}.{role.value.split('_')[-1]}.{code}"
            user = person(region, username, first, last)
            RoleAssignment.objects.get_or_create(user=user, role=role, capability=capability)
            region.owners[(home, role.value)] = user
    return region
