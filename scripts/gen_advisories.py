"""The demo world of advisoryfs: organisations and generated advisories.

Used by scripts/demo-store (standard library only).  Three parts:

  1. ORGS and MEMBERSHIPS: the organisations of CONTEXT.md (the four
     designated CSIRTs, the DTC and other schakelorganisaties, vital
     providers, ministries, other providers) with dated roles and
     constituencies.  The CSIRTs, the DTC and the ministries are real
     bodies; every company, hospital, municipality and ISAC is invented.
  2. generate(): NCSC-style CSAF 2.0 advisories with their .dist.json
     companions, deterministic for a seed and a reference time "now".
     A fixed list of scenarios covers the cases that matter to the policy
     (the 2020 Pulse Secure incident, the 2022-12-01 change of law, TLP
     RED and AMBER+STRICT, embargoes, scheduled and withdrawn advisories,
     several versions); random fillers make up the rest.
  3. Checks: check_document() (the publishing rules of SPEC.md section 1,
     RFC 3339 dates, the CSAF 2.0 section 5.1 file name) and SchemaChecker,
     a small JSON Schema validator that covers the keywords the official
     CSAF 2.0 schema and the FIRST CVSS schemas use.

All generated advisories say in document.notes and document.distribution
that they are generated demo data, and use fictional CVE ids (CVE-9999-*).
"""

import datetime as dt
import json
import os
import random
import re

# ---------------------------------------------------------------------------
# Vocabulary of the default policy
# ---------------------------------------------------------------------------

SECTORS = (
    "energy", "drinking-water", "water-management", "telecom", "digital-infrastructure",
    "finance", "transport", "health", "government", "municipalities", "education-research",
    "food", "chemicals", "nuclear", "defence", "logistics", "manufacturing", "retail",
    "political", "other",
)
ROLES = ("vital", "government", "csirt", "oktt", "other")
TLPS = ("CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED")   # tightening order
TLP_CSAF_LABEL = {"CLEAR": "WHITE", "GREEN": "GREEN", "AMBER": "AMBER",
                  "AMBER+STRICT": "AMBER", "RED": "RED"}
CSAF_LABEL_TLP = {"WHITE": "CLEAR", "GREEN": "GREEN", "AMBER": "AMBER", "RED": "RED"}
DIST_KEYS = ("tlp", "concerns", "sectors", "personal_data", "impact", "embargo_until")
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")

# ---------------------------------------------------------------------------
# 1. Organisations
# ---------------------------------------------------------------------------

WBNI = "2018-11-09"                 # Wbni in force
CSIRT_FROM = "2020-01-14"           # Regeling aanwijzing computercrisisteams
CSIRT_REF = "Stcrt. 2020, 4410"
DTC_OKTT_FROM = "2021-09-13"
REF_VITAL = "Wbni art. 3(1): vitale aanbieder (demo)"
REF_GOV = "Wbni art. 3(1): rijksoverheid"
REF_OTHER = "andere aanbieder (demo)"


class Org:
    """One organisation: slug, name, sectors and dated roles
    (role, from, until or None, ref)."""

    def __init__(self, slug, name, sectors, roles):
        self.slug, self.name, self.sectors, self.roles = slug, name, sectors, roles

    def role_names(self):
        return [r[0] for r in self.roles]


def _vital(slug, name, *sectors):
    return Org(slug, name, list(sectors), [("vital", WBNI, None, REF_VITAL)])


def _gov(slug, name):
    return Org(slug, name, ["government"], [("government", WBNI, None, REF_GOV)])


def _other(slug, name, *sectors, since=WBNI):
    return Org(slug, name, list(sectors), [("other", since, None, REF_OTHER)])


ORGS = [
    # The four designated CSIRTs (real).  Z-CERT is also a schakelorganisatie.
    Org("ibd", "Informatiebeveiligingsdienst (IBD)", ["municipalities"],
        [("csirt", CSIRT_FROM, None, CSIRT_REF)]),
    Org("z-cert", "Z-CERT", ["health"],
        [("csirt", CSIRT_FROM, None, CSIRT_REF),
         ("oktt", WBNI, None, "Wbni art. 3(2)(a): schakelorganisatie voor ziekenhuizen")]),
    Org("surfcert", "SURFcert", ["education-research"],
        [("csirt", CSIRT_FROM, None, CSIRT_REF)]),
    Org("cert-wm", "CERT Watermanagement", ["water-management"],
        [("csirt", CSIRT_FROM, None, CSIRT_REF)]),
    # Schakelorganisaties (OKTTs): the DTC (real) and invented ISACs.
    Org("dtc", "Digital Trust Center", ["other"],
        [("oktt", DTC_OKTT_FROM, None, "OKTT-status Digital Trust Center, september 2021")]),
    Org("isac-havens", "Stichting ISAC Havens Noordkade", ["logistics", "transport"],
        [("oktt", "2019-04-01", None, "Wbni art. 3(2)(a): OKTT (demo)")]),
    Org("cwmkb-oost", "Stichting Cyberweerbaar MKB Oost", ["other"],
        [("oktt", "2020-06-01", "2022-11-30",
          "Wbni art. 3(2)(a): OKTT tot 2022-11-30; niet aangewezen onder de gewijzigde Wbni (demo)")]),
    Org("isac-voedsel", "Voedselketen ISAC", ["food"],
        [("oktt", "2022-12-01", None, "aangewezen OKTT, Wbni art. 3(2)(a) en 20(2)(d) (demo)")]),
    # Vital providers (invented), and one whose vital designation ended.
    _vital("delta-netbeheer", "Delta Netbeheer N.V.", "energy"),
    _vital("zz-gastransport", "Zuiderzee Gastransport B.V.", "energy"),
    _vital("wb-lindehoven", "Waterbedrijf Lindehoven", "drinking-water"),
    _vital("noordnet-telecom", "NoordNet Telecom B.V.", "telecom", "digital-infrastructure"),
    _vital("polderbank", "Polderbank N.V.", "finance"),
    _vital("railned", "RailNed Infra B.V.", "transport"),
    Org("oudehaven-energie", "Oude Haven Energie B.V.", ["energy"],
        [("vital", WBNI, "2021-12-31", "Wbni art. 3(1): vitale aanbieder tot 2021-12-31 (demo)"),
         ("other", "2022-01-01", None, REF_OTHER)]),
    # Central government (real ministries).
    _gov("min-jenv", "Ministerie van Justitie en Veiligheid"),
    _gov("min-ezk", "Ministerie van Economische Zaken en Klimaat"),
    _gov("min-bzk", "Ministerie van Binnenlandse Zaken en Koninkrijksrelaties"),
    _gov("min-ienw", "Ministerie van Infrastructuur en Waterstaat"),
    # Constituents of the CSIRTs (invented).
    _other("st-gerardus-zh", "Sint-Gerardus Ziekenhuis Lindehoven", "health"),
    _other("mc-zuiderveen", "Medisch Centrum Zuiderveen", "health"),
    _other("zh-de-wielen", "Streekziekenhuis De Wielen", "health"),
    _other("gemeente-lindehoven", "Gemeente Lindehoven", "municipalities"),
    _other("gemeente-zuiderveen", "Gemeente Zuiderveen", "municipalities"),
    _other("gemeente-oostermark", "Gemeente Oostermark", "municipalities"),
    _other("hs-lindehoven", "Hogeschool Lindehoven", "education-research"),
    _other("uni-zuiderveen", "Universiteit Zuiderveen", "education-research"),
    _other("waterschap-oostermark", "Waterschap Oostermark", "water-management"),
    # Other providers with a schakelorganisatie (invented; the kinds the
    # 2022-12 article names: a food distributor, a political party, a
    # container terminal).
    _other("hofstede-precisie", "Hofstede Precisietechniek B.V.", "manufacturing"),
    _other("vandijk-vers", "Van Dijk Versdistributie B.V.", "food", "logistics"),
    _other("noordkade-terminal", "Noordkade Container Terminal B.V.", "logistics", "transport"),
    _other("polderpartij", "Nieuwe Polderpartij", "political"),
    _other("brouwer-chemie", "Brouwer Chemie Logistiek B.V.", "chemicals", "logistics"),
    _other("bakker-retail", "Bakker & Zonen Winkelbedrijven B.V.", "retail"),
    # Other providers that no schakelorganisatie reaches (invented).
    _other("kustlijn-data", "Kustlijn Dataopslag B.V.", "digital-infrastructure"),
    _other("rijnmond-opslag", "Rijnmond Tankopslag B.V.", "chemicals"),
]

# (schakelorganisatie, member, from, until or None)
MEMBERSHIPS = [
    ("z-cert", "st-gerardus-zh", "2017-03-01", None),
    ("z-cert", "mc-zuiderveen", "2017-03-01", None),
    ("z-cert", "zh-de-wielen", "2021-05-01", None),
    ("ibd", "gemeente-lindehoven", "2015-01-01", None),
    ("ibd", "gemeente-zuiderveen", "2015-01-01", None),
    ("ibd", "gemeente-oostermark", "2016-06-01", None),
    ("surfcert", "hs-lindehoven", "2012-01-01", None),
    ("surfcert", "uni-zuiderveen", "2012-01-01", None),
    ("cert-wm", "waterschap-oostermark", "2020-01-14", None),
    ("dtc", "hofstede-precisie", "2019-05-01", None),
    ("dtc", "vandijk-vers", "2021-10-01", None),
    ("dtc", "noordkade-terminal", "2022-03-01", None),
    ("dtc", "polderpartij", "2022-06-01", None),
    ("dtc", "brouwer-chemie", "2021-10-01", "2023-06-30"),
    ("isac-havens", "noordkade-terminal", "2019-04-01", None),
    ("isac-voedsel", "vandijk-vers", "2022-12-01", None),
    ("cwmkb-oost", "bakker-retail", "2020-06-01", None),
]

ORG_BY_SLUG = {o.slug: o for o in ORGS}

# ---------------------------------------------------------------------------
# Time helpers
# ---------------------------------------------------------------------------

UTC = dt.timezone.utc
RFC3339_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def ts(d):
    """RFC 3339 in the style 2022-12-01T09:00:00Z."""
    return d.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def at(s):
    """'2022-12-01T09:00' (UTC) -> aware datetime."""
    return dt.datetime.fromisoformat(s).replace(tzinfo=UTC)


def parse_rfc3339(s):
    """Aware datetime for an RFC 3339 date-time, or None if it is not one."""
    if not isinstance(s, str):
        return None
    m = RFC3339_RE.match(s)
    if not m:
        return None
    try:
        return dt.datetime.fromisoformat(s.upper().replace("Z", "+00:00"))
    except ValueError:
        return None


def parse_time_arg(s):
    """--now: ISO 8601 date or date-time, UTC when no offset is given."""
    d = dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
    return d if d.tzinfo else d.replace(tzinfo=UTC)


# ---------------------------------------------------------------------------
# CSAF helpers
# ---------------------------------------------------------------------------

def csaf_filename(tracking_id):
    """CSAF 2.0 section 5.1: lowercase, runs outside [+\\-a-z0-9] -> '_', '.json'."""
    return re.sub(r"[^+\-a-z0-9]+", "_", tracking_id.lower()) + ".json"


_CVSS_W = {
    "AV": {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2},
    "AC": {"L": 0.77, "H": 0.44},
    "UI": {"N": 0.85, "R": 0.62},
    "CIA": {"H": 0.56, "L": 0.22, "N": 0.0},
}


def _roundup(x):
    i = round(x * 100000)
    return i / 100000.0 if i % 10000 == 0 else (i // 10000 + 1) / 10.0


def cvss31(av, ac, pr, ui, s, c, i, a):
    """A cvss_v3 object (CVSS 3.1 base metrics) with a correctly computed score."""
    prw = {"N": 0.85, "L": 0.68 if s == "C" else 0.62, "H": 0.5 if s == "C" else 0.27}[pr]
    w = _CVSS_W["CIA"]
    iss = 1 - (1 - w[c]) * (1 - w[i]) * (1 - w[a])
    if s == "U":
        impact = 6.42 * iss
    else:
        impact = 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15
    expl = 8.22 * _CVSS_W["AV"][av] * _CVSS_W["AC"][ac] * prw * _CVSS_W["UI"][ui]
    if impact <= 0:
        score = 0.0
    elif s == "U":
        score = _roundup(min(impact + expl, 10))
    else:
        score = _roundup(min(1.08 * (impact + expl), 10))
    sev = ("NONE" if score == 0 else "LOW" if score < 4 else "MEDIUM" if score < 7
           else "HIGH" if score < 9 else "CRITICAL")
    full = {"N": "NETWORK", "A": "ADJACENT_NETWORK", "L": "LOCAL", "P": "PHYSICAL"}
    lh = {"L": "LOW", "H": "HIGH", "N": "NONE"}
    return {
        "version": "3.1",
        "vectorString": "CVSS:3.1/AV:%s/AC:%s/PR:%s/UI:%s/S:%s/C:%s/I:%s/A:%s"
                        % (av, ac, pr, ui, s, c, i, a),
        "attackVector": full[av],
        "attackComplexity": lh[ac],
        "privilegesRequired": lh[pr],
        "userInteraction": {"N": "NONE", "R": "REQUIRED"}[ui],
        "scope": {"U": "UNCHANGED", "C": "CHANGED"}[s],
        "confidentialityImpact": lh[c],
        "integrityImpact": lh[i],
        "availabilityImpact": lh[a],
        "baseScore": score,
        "baseSeverity": sev,
    }


# ---------------------------------------------------------------------------
# 2. Content catalogue
# ---------------------------------------------------------------------------

# vendor, product, versions (oldest first), sectors it is typical for
PRODUCTS = [
    ("Pulse Secure", "Pulse Connect Secure",
     ["8.2R12", "8.3R7", "9.0R1", "9.0R2", "9.0R3", "9.0R3.4", "9.1R1", "9.1R8"], []),
    ("Ivanti", "Connect Secure", ["9.1R14", "9.1R17", "9.1R18", "22.4R2", "22.5R2", "22.6R2"], []),
    ("Citrix", "Citrix ADC", ["12.1-55.18", "13.0-47.24", "13.0-58.30", "13.1-17.42", "14.1-4.42"], []),
    ("Citrix", "Citrix Gateway", ["12.1-55.18", "13.0-47.24", "13.0-58.30", "13.1-17.42"], []),
    ("Fortinet", "FortiOS", ["6.0.9", "6.2.4", "6.4.1", "7.0.0", "7.0.5", "7.2.0", "7.2.3", "7.4.1"], []),
    ("Fortinet", "FortiProxy", ["2.0.8", "7.0.4", "7.2.1"], []),
    ("Microsoft", "Exchange Server", ["2013 CU23", "2016 CU19", "2016 CU20", "2019 CU8", "2019 CU9"],
     ["government"]),
    ("Microsoft", "Windows Server", ["2012 R2", "2016", "2019", "2022"], []),
    ("Microsoft", "Windows 10", ["1809", "21H2", "22H2"], []),
    ("Microsoft", "Windows 11", ["22H2", "23H2", "24H2"], []),
    ("Microsoft", "SharePoint Server", ["2016", "2019", "Subscription Edition"], []),
    ("Microsoft", "Office", ["2016", "2019", "LTSC 2021", "365 Apps"], []),
    ("VMware", "vCenter Server", ["6.5", "6.7", "7.0", "7.0 U3", "8.0"], ["digital-infrastructure"]),
    ("VMware", "ESXi", ["6.7", "7.0", "7.0 U3", "8.0"], ["digital-infrastructure"]),
    ("Apache", "Log4j", ["2.0", "2.10.0", "2.12.1", "2.14.1", "2.15.0", "2.16.0"], []),
    ("Atlassian", "Confluence Server", ["7.4.0", "7.13.0", "7.18.1", "8.0.0", "8.5.1"], []),
    ("Cisco", "ASA Software", ["9.8", "9.12", "9.14", "9.16", "9.18"], ["telecom"]),
    ("Cisco", "IOS XE", ["16.12", "17.3", "17.6", "17.9"], ["telecom"]),
    ("F5", "BIG-IP", ["13.1.3", "14.1.2", "15.1.0", "16.1.2", "17.0.0"], ["finance"]),
    ("Palo Alto Networks", "PAN-OS", ["9.1.0", "10.0.0", "10.2.0", "11.0.0", "11.1.0"], []),
    ("SonicWall", "SMA 100", ["9.0.0.10", "10.2.0.7", "10.2.1.2"], []),
    ("Zyxel", "USG FLEX", ["4.50", "5.10", "5.21", "5.32"], []),
    ("Progress", "MOVEit Transfer", ["2021.0", "2022.0", "2022.1", "2023.0"], ["finance", "health"]),
    ("Oracle", "WebLogic Server", ["12.2.1.3.0", "12.2.1.4.0", "14.1.1.0.0"], []),
    ("OpenSSL", "OpenSSL", ["1.1.1", "3.0.0", "3.0.7", "3.1.0"], []),
    ("Siemens", "SIMATIC S7-1500 CPU", ["V2.8", "V2.9", "V3.0", "V3.1"],
     ["energy", "drinking-water", "water-management"]),
    ("Schneider Electric", "EcoStruxure Control Expert", ["V14.1", "V15.0", "V15.3"],
     ["energy", "drinking-water", "chemicals"]),
    # Invented sector software (fictional vendors).
    ("Zorgdata (fictief)", "EPD Suite", ["4.2", "4.3", "5.0", "5.1"], ["health"]),
    ("Gemeentesoft (fictief)", "Zaaksysteem", ["3.8", "3.9", "4.0"], ["municipalities"]),
    ("Havenlogica (fictief)", "Terminal Operating System", ["7.1", "7.2", "8.0"], ["logistics", "transport"]),
]
PRODUCT_BY_NAME = {p[1]: p for p in PRODUCTS}

# English kind, Dutch damage ("Schade") phrase, CWE id, CWE name, CVSS metrics
KINDS = [
    ("remote code execution", "Uitvoer van willekeurige code (Rootrechten)", "CWE-78",
     "Improper Neutralization of Special Elements used in an OS Command ('OS Command Injection')",
     ("N", "L", "N", "N", "U", "H", "H", "H")),
    ("path traversal", "Toegang tot gevoelige gegevens", "CWE-22",
     "Improper Limitation of a Pathname to a Restricted Directory ('Path Traversal')",
     ("N", "L", "N", "N", "U", "H", "N", "N")),
    ("authentication bypass", "Omzeilen van authenticatie", "CWE-287", "Improper Authentication",
     ("N", "L", "N", "N", "U", "H", "H", "N")),
    ("SQL injection", "Manipulatie van gegevens", "CWE-89",
     "Improper Neutralization of Special Elements used in an SQL Command ('SQL Injection')",
     ("N", "L", "L", "N", "U", "H", "H", "N")),
    ("denial of service", "Denial-of-Service (DoS)", "CWE-400", "Uncontrolled Resource Consumption",
     ("N", "L", "N", "N", "U", "N", "N", "H")),
    ("privilege escalation", "Verkrijgen van verhoogde rechten", "CWE-269",
     "Improper Privilege Management", ("L", "L", "L", "N", "U", "H", "H", "H")),
    ("information disclosure", "Toegang tot gevoelige gegevens", "CWE-200",
     "Exposure of Sensitive Information to an Unauthorized Actor",
     ("N", "H", "N", "N", "U", "L", "N", "N")),
    ("cross-site scripting", "Cross-site Scripting (XSS)", "CWE-79",
     "Improper Neutralization of Input During Web Page Generation ('Cross-site Scripting')",
     ("N", "L", "N", "R", "C", "L", "L", "N")),
    ("out-of-bounds write", "Uitvoer van willekeurige code (Gebruikersrechten)", "CWE-787",
     "Out-of-bounds Write", ("N", "H", "N", "R", "U", "H", "H", "H")),
    ("server-side request forgery", "Omzeilen van beveiligingsmaatregel", "CWE-918",
     "Server-Side Request Forgery (SSRF)", ("N", "L", "N", "N", "C", "L", "L", "N")),
    ("deserialization of untrusted data", "Uitvoer van willekeurige code (Administratorrechten)",
     "CWE-502", "Deserialization of Untrusted Data", ("N", "L", "L", "N", "U", "H", "H", "H")),
    ("missing authentication", "Omzeilen van authenticatie", "CWE-306",
     "Missing Authentication for Critical Function", ("A", "L", "N", "N", "U", "H", "H", "L")),
]

KIND_NL = {   # what the flaw lets an attacker do, after "kan"
    "remote code execution": "een ongeauthenticeerde aanvaller op afstand willekeurige code uitvoeren met rootrechten",
    "path traversal": "een aanvaller op afstand bestanden buiten de webroot lezen, waaronder sessie- en configuratiebestanden",
    "authentication bypass": "een aanvaller de authenticatie omzeilen en beheerfuncties bereiken",
    "SQL injection": "een geauthenticeerde aanvaller willekeurige SQL-opdrachten uitvoeren op de onderliggende database",
    "denial of service": "een aanvaller op afstand een Denial-of-Service-toestand veroorzaken",
    "privilege escalation": "een lokale, geauthenticeerde aanvaller verhoogde rechten verkrijgen",
    "information disclosure": "een aanvaller toegang krijgen tot gevoelige gegevens in het geheugen van het proces",
    "cross-site scripting": "een aanvaller willekeurige scriptcode laten uitvoeren in de browser van een slachtoffer",
    "out-of-bounds write": "een aanvaller met een speciaal geprepareerd bestand of verzoek willekeurige code uitvoeren",
    "server-side request forgery": "een aanvaller namens de server verzoeken doen naar interne systemen",
    "deserialization of untrusted data": "een aanvaller met beperkte rechten code uitvoeren via een gemanipuleerd object",
    "missing authentication": "een aanvaller in hetzelfde netwerksegment kritieke functies zonder authenticatie aanroepen",
}

LEVEL_NL = {"low": "laag", "medium": "medium", "high": "hoog"}

DISCLAIMER = (
    "DEMO-GEGEVENS / GENERATED DEMO DATA. Dit document is gegenereerd door scripts/demo-store "
    "van advisoryfs en is niet uitgegeven door het Nationaal Cyber Security Centrum. De inhoud, "
    "de betrokken organisaties, de persoonsgegevens en de kwetsbaarheidsnummers (CVE-9999-*) zijn "
    "fictief. This document was generated as demo data for advisoryfs; it is not an NCSC-NL advisory.")

PUBLISHER = {
    "category": "coordinator",
    "name": "Nationaal Cyber Security Centrum (demo)",
    "namespace": "https://www.ncsc.nl/demo",
    "contact_details": "Demo-gegevens; geen contactgegevens van het echte NCSC.",
}

# ---------------------------------------------------------------------------
# Scenario specifications
# ---------------------------------------------------------------------------


class Spec:
    """What one advisory is about; rendered into one document per version.

    versions: list of (datetime, version number, summary, status, tlp),
    oldest first.  The distribution metadata (concerns, sectors, personal
    data, impact, embargo) is the same for every version."""

    def __init__(self, key, products, versions, *, title=None, concerns=(), sectors=(),
                 personal_data=False, impact=False, embargo=None, nvulns=1, size="small",
                 incident=None, withdraw=False, shares=(), note=None, kinds=()):
        self.key = key
        self.products = products
        self.versions = versions
        self.title = title
        self.concerns = list(concerns)
        self.sectors = list(sectors)
        self.personal_data = personal_data
        self.impact = impact
        self.embargo = embargo
        self.nvulns = nvulns
        self.size = size
        self.incident = incident      # free text for incident advisories (Feiten)
        self.withdraw = withdraw
        self.shares = list(shares)    # (slug, reason)
        self.note = note              # extra note for the scenario (a general note)
        self.kinds = list(kinds)      # KINDS names of the first vulnerabilities
        self.tracking_id = None
        self.cve_base = None

    @property
    def released(self):
        return self.versions[0][0]


def _v(when, number="1.0.0", summary="Initiële versie", status="final", tlp="CLEAR"):
    return (when, number, summary, status, tlp)


def scenarios(now):
    """The fixed scenarios: each case the policy distinguishes, at least once.

    now is the reference time (midnight UTC of today unless --now is given);
    the scheduled advisories and the running embargoes are placed relative
    to it so that they are in the future whenever the demo is built."""
    day = dt.timedelta(days=1)
    S = []
    share_pulse = ("Bijzonder geval, Wbni art. 3(2)(e): gelekte VPN-inloggegevens met aanzienlijke "
                   "gevolgen voor de continuïteit van de dienstverlening; geen schakelorganisatie "
                   "bereikt de organisatie tijdig (demo)")
    # -- Pulse Secure, 2019-2020: the public advisory with three versions.
    S.append(Spec("pulse-public", ["Pulse Connect Secure"], [
        _v(at("2019-04-25T10:00"), "1.0.0", "Initiële versie", "final", "CLEAR"),
        _v(at("2019-08-26T14:30"), "1.1.0", "Exploitcode publiek beschikbaar; kans verhoogd naar hoog"),
        _v(at("2020-10-15T08:30"), "2.0.0", "Gelekte inloggegevens in omloop; advies aangescherpt"),
    ], title="Kwetsbaarheden verholpen in Pulse Connect Secure", nvulns=6, size="medium",
        kinds=["path traversal", "remote code execution", "authentication bypass"]))
    # -- The seed incident: leaked VPN credentials of a non-vital DTC member.
    S.append(Spec("pulse-incident", ["Pulse Connect Secure"], [
        _v(at("2020-10-14T15:00"), tlp="AMBER")],
        title="Gelekte VPN-inloggegevens van Pulse Connect Secure bij Nederlands bedrijf",
        concerns=["hofstede-precisie"], personal_data=True, impact=True, kinds=["path traversal"],
        incident=("Op een crimineel forum is een lijst gepubliceerd met inloggegevens van "
                  "Pulse Connect Secure VPN-servers, buitgemaakt via een bekende path-traversal-"
                  "kwetsbaarheid. De lijst bevat gebruikersnamen en wachtwoorden in platte tekst "
                  "van medewerkers van Hofstede Precisietechniek B.V."),
        shares=[("hofstede-precisie", share_pulse)]))
    # -- Public advisory that carries personal data (IP addresses): CLEAR + PD.
    S.append(Spec("pulse-ips", ["Pulse Connect Secure"], [_v(at("2020-10-16T11:00"), tlp="CLEAR")],
                  title="Lijst met IP-adressen van mogelijk gecompromitteerde VPN-servers",
                  kinds=["path traversal"],
                  personal_data=True, incident=(
                      "Het NCSC heeft een lijst ontvangen met IP-adressen van Pulse Connect "
                      "Secure-servers waarvan inloggegevens zijn uitgelekt.")))
    # -- Around the change of law of 2022-12-01.
    S.append(Spec("vers-before", ["WebLogic Server"],
                  [_v(at("2022-11-30T14:00"), tlp="AMBER")],
                  title="Gegevens uit klantportaal van voedseldistributeur aangeboden op criminele marktplaats",
                  concerns=["vandijk-vers"], sectors=["food"], personal_data=True, incident=(
                      "Op een criminele marktplaats wordt een database aangeboden met klant- en "
                      "inloggegevens uit het klantportaal van Van Dijk Versdistributie B.V.")))
    S.append(Spec("terminal-after", ["Terminal Operating System"],
                  [_v(at("2022-12-01T09:00"), tlp="AMBER")],
                  title="Ransomwaregroep claimt aanval op containeroverslagbedrijf",
                  concerns=["noordkade-terminal"], sectors=["logistics"], personal_data=True,
                  impact=True, incident=(
                      "Een ransomwaregroep heeft op haar lekpagina gegevens gepubliceerd die "
                      "afkomstig zouden zijn van Noordkade Container Terminal B.V., waaronder "
                      "e-mailadressen en IP-adressen van beheerders.")))
    S.append(Spec("party", ["Office"], [_v(at("2023-03-10T10:30"), tlp="AMBER")],
                  title="Phishingcampagne gericht op medewerkers van politieke partij",
                  concerns=["polderpartij"], sectors=["political"], personal_data=True, incident=(
                      "Voorafgaand aan de verkiezingen is een gerichte phishingcampagne "
                      "waargenomen tegen medewerkers van de Nieuwe Polderpartij.")))
    # -- Art. 3(2)(e): concerned, significant impact, no schakelorganisatie.
    S.append(Spec("kustlijn", ["vCenter Server"], [_v(at("2024-02-06T13:00"), tlp="AMBER")],
                  title="Kwetsbare beheerinterface bij dataopslagdienst",
                  concerns=["kustlijn-data"], impact=True, nvulns=2, incident=(
                      "Het NCSC heeft aanwijzingen dat de beheerinterface van een vCenter-"
                      "omgeving van Kustlijn Dataopslag B.V. vanaf internet bereikbaar is en "
                      "actief wordt gescand.")))
    S.append(Spec("rijnmond", ["EcoStruxure Control Expert"], [_v(at("2025-05-20T09:30"), tlp="AMBER")],
                  title="Onbeveiligde industriële besturing bij tankopslagbedrijf bereikbaar vanaf internet",
                  concerns=["rijnmond-opslag"], sectors=["chemicals"], impact=True, incident=(
                      "Een engineeringwerkstation van Rijnmond Tankopslag B.V. is via internet "
                      "bereikbaar en wordt actief gescand.")))
    # -- AMBER+STRICT and RED.
    S.append(Spec("bank-strict", ["BIG-IP"], [_v(at("2023-09-19T16:00"), tlp="AMBER+STRICT")],
                  title="Gerichte aanval op betaalinfrastructuur van bank", concerns=["polderbank"],
                  impact=True, nvulns=2, incident=(
                      "Een statelijke actor richt zich op de BIG-IP-omgeving van Polderbank N.V.")))
    S.append(Spec("water-red", ["SIMATIC S7-1500 CPU"], [_v(at("2024-06-11T07:30"), tlp="RED")],
                  title="Verdachte activiteit op procesbesturing van drinkwaterbedrijf",
                  concerns=["wb-lindehoven"], sectors=["drinking-water"], impact=True, incident=(
                      "Op de procesautomatisering van Waterbedrijf Lindehoven is ongeautoriseerd "
                      "verkeer naar een PLC waargenomen."),
                  shares=[("min-ienw", "TLP:RED: met naam genoemde ontvanger voor de crisiscoördinatie "
                                       "drinkwater (demo)")]))
    S.append(Spec("ministry-red", ["Exchange Server"], [_v(at("2025-04-02T12:00"), tlp="RED")],
                  title="Spionagecampagne gericht op e-mailomgeving van ministerie",
                  concerns=["min-jenv"], personal_data=True, incident=(
                      "Een statelijke actor heeft toegang verkregen tot mailboxen van een "
                      "ministerie via een kwetsbaarheid in Exchange Server.")))
    # -- Sector advisories for the CSIRT constituencies.
    S.append(Spec("health-pd", ["EPD Suite"], [_v(at("2021-06-15T10:00"), tlp="GREEN")],
                  title="Gelekte inloggegevens van zorgmedewerkers aangetroffen",
                  sectors=["health"], personal_data=True, incident=(
                      "In een gelekte dataset zijn inloggegevens aangetroffen van medewerkers "
                      "van meerdere zorginstellingen.")))
    S.append(Spec("hospital", ["EPD Suite"], [_v(at("2024-09-03T08:00"), tlp="AMBER")],
                  title="Besmetting met malware bij ziekenhuis waargenomen",
                  concerns=["st-gerardus-zh"], sectors=["health"], personal_data=True, incident=(
                      "Vanaf IP-adressen van het Sint-Gerardus Ziekenhuis is verkeer naar "
                      "bekende command-and-control-servers waargenomen.")))
    S.append(Spec("municipal", ["Zaaksysteem"], [_v(at("2023-01-17T11:00"), tlp="AMBER")],
                  title="Kwetsbaarheden in zaaksysteem van gemeenten", sectors=["municipalities"],
                  nvulns=3, size="medium"))
    S.append(Spec("gemeente-early", ["Citrix ADC"], [_v(at("2019-11-05T10:00"), tlp="AMBER")],
                  title="Mogelijk gecompromitteerde Citrix-omgeving bij gemeente",
                  concerns=["gemeente-lindehoven"], sectors=["municipalities"], personal_data=True,
                  incident="Een Citrix ADC van Gemeente Lindehoven bevat sporen van een webshell."))
    S.append(Spec("gemeente-later", ["Citrix ADC"], [_v(at("2020-03-18T09:00"), tlp="AMBER")],
                  title="Uitgelekte inloggegevens van gemeentelijke medewerkers",
                  concerns=["gemeente-oostermark"], sectors=["municipalities"], personal_data=True,
                  incident="Inloggegevens van medewerkers van Gemeente Oostermark circuleren online."))
    S.append(Spec("water-ot", ["SIMATIC S7-1500 CPU"], [_v(at("2022-05-24T10:00"), tlp="AMBER")],
                  title="Kwetsbaarheden in PLC's bij waterschappen en drinkwaterbedrijven",
                  sectors=["water-management", "drinking-water"], nvulns=4, size="medium"))
    S.append(Spec("education", ["Office"], [_v(at("2021-02-09T09:00"), tlp="GREEN")],
                  title="Phishingcampagne tegen onderzoekers van universiteiten en hogescholen",
                  sectors=["education-research"], personal_data=True, incident=(
                      "Onderzoekers ontvangen e-mails die zich voordoen als uitnodigingen voor "
                      "conferenties.")))
    # -- Dated roles and memberships.
    S.append(Spec("oudehaven-vital", ["FortiOS"], [_v(at("2021-06-01T09:00"), tlp="AMBER")],
                  title="Kwetsbare FortiGate bij energiebedrijf", concerns=["oudehaven-energie"],
                  sectors=["energy"], nvulns=2))
    S.append(Spec("oudehaven-other", ["FortiOS"], [_v(at("2023-05-09T14:00"), tlp="AMBER")],
                  title="Gecompromitteerde VPN-omgeving bij energiebedrijf",
                  concerns=["oudehaven-energie"], sectors=["energy"], impact=True))
    S.append(Spec("brouwer", ["MOVEit Transfer"], [_v(at("2023-10-12T10:00"), tlp="AMBER")],
                  title="Gegevensdiefstal via MOVEit Transfer bij logistiek bedrijf",
                  concerns=["brouwer-chemie"], sectors=["chemicals"]))
    S.append(Spec("bakker-early", ["SMA 100"],
                  [_v(at("2022-06-14T09:00"), tlp="AMBER")],
                  title="Kwetsbare SonicWall-apparaten bij retailbedrijf", concerns=["bakker-retail"],
                  sectors=["retail"]))
    S.append(Spec("bakker-later", ["SMA 100"], [_v(at("2023-02-21T09:00"), tlp="AMBER")],
                  title="Inloggegevens van retailbedrijf aangetroffen in infostealer-logs",
                  concerns=["bakker-retail"], personal_data=True, impact=True, incident=(
                      "Inloggegevens van medewerkers van Bakker & Zonen zijn aangetroffen in "
                      "logbestanden van infostealer-malware.")))
    # -- Vital sectors.
    S.append(Spec("energy", ["SIMATIC S7-1500 CPU", "EcoStruxure Control Expert"],
                  [_v(at("2024-11-20T10:00"), tlp="AMBER")],
                  title="Aanvallen op industriële besturingssystemen in de energiesector",
                  sectors=["energy"], impact=True, nvulns=5, size="medium"))
    S.append(Spec("finance", ["BIG-IP"], [_v(at("2020-07-07T09:00"), tlp="GREEN")],
                  title="Kwetsbaarheid in BIG-IP TMUI actief misbruikt", sectors=["finance"]))
    S.append(Spec("rail", ["PAN-OS"], [_v(at("2022-02-15T13:00"), tlp="AMBER")],
                  title="Kwetsbare GlobalProtect-portal bij spoorbeheerder", concerns=["railned"],
                  sectors=["transport"]))
    S.append(Spec("government", ["SharePoint Server"], [_v(at("2025-07-21T18:00"), tlp="GREEN")],
                  title="Actief misbruik van kwetsbaarheid in on-premises SharePoint Server",
                  sectors=["government"], impact=True, nvulns=2))
    S.append(Spec("defence", ["Office"], [_v(at("2025-10-08T09:00"), tlp="GREEN")],
                  title="Spearphishing tegen toeleveranciers van defensie", sectors=["defence"]))
    # -- Embargoes: one ended long ago, two still running.
    S.append(Spec("embargo-past", ["IOS XE"], [_v(at("2023-04-04T09:00"), tlp="GREEN")],
                  title="Kwetsbaarheid verholpen in Cisco IOS XE (onder embargo gedeeld)",
                  sectors=["telecom"], embargo=at("2023-04-11T16:00"), nvulns=2))
    S.append(Spec("embargo-future-1", ["IOS XE"],
                  [_v(now - 3 * day + dt.timedelta(hours=9), tlp="AMBER")],
                  title="Nog niet openbare kwetsbaarheid in routers van telecomaanbieder",
                  concerns=["noordnet-telecom"], sectors=["telecom"], impact=True,
                  embargo=now + 30 * day + dt.timedelta(hours=9)))
    S.append(Spec("embargo-future-2", ["FortiOS"], [_v(now - 1 * day + dt.timedelta(hours=14), tlp="GREEN")],
                  title="Gecoördineerde openbaarmaking: kwetsbaarheid in FortiOS SSL-VPN",
                  embargo=now + 60 * day + dt.timedelta(hours=16), nvulns=3))
    # -- Scheduled: released in the future.
    S.append(Spec("scheduled-1", ["Windows Server", "Windows 11", "Exchange Server"],
                  [_v(now + 10 * day + dt.timedelta(hours=19), tlp="CLEAR")],
                  title="Beveiligingsupdates Microsoft (gepland)", nvulns=12, size="large"))
    S.append(Spec("scheduled-2", ["Connect Secure"], [_v(now + 40 * day + dt.timedelta(hours=9), tlp="GREEN")],
                  title="Kwetsbaarheden verholpen in Ivanti Connect Secure (gepland)", nvulns=3))
    # -- Drafts and interim.
    S.append(Spec("draft-1", ["Connect Secure"],
                  [_v(at("2024-01-10T17:00"), "0.1.0", "Concept", "draft", "AMBER")],
                  title="CONCEPT: Zero-day in Ivanti Connect Secure", nvulns=2))
    S.append(Spec("draft-2", ["Confluence Server"],
                  [_v(at("2023-10-31T12:00"), "0.2.0", "Concept", "draft", "CLEAR")],
                  title="CONCEPT: Kwetsbaarheid in Atlassian Confluence Server"))
    S.append(Spec("exchange", ["Exchange Server"], [
        _v(at("2021-03-03T08:00"), "1.0.0", "Initiële versie", "interim", "CLEAR"),
        _v(at("2021-03-08T16:00"), "1.1.0", "Onderzoek afgerond; detectie-informatie toegevoegd", "final", "CLEAR"),
    ], title="Kwetsbaarheden in Microsoft Exchange Server actief misbruikt", nvulns=4, size="medium",
        kinds=["server-side request forgery", "deserialization of untrusted data"],
        impact=True))
    S.append(Spec("interim-citrix", ["Citrix ADC", "Citrix Gateway"],
                  [_v(at("2023-07-18T20:00"), "1.0.0", "Initiële versie", "interim", "GREEN")],
                  title="Onderzoek naar misbruik van Citrix ADC loopt nog", nvulns=3, impact=True))
    # -- Several versions, including a TLP that is lowered when the fix is out.
    S.append(Spec("citrix-2019", ["Citrix ADC", "Citrix Gateway"], [
        _v(at("2019-12-17T16:00"), "1.0.0", "Initiële versie", "final", "CLEAR"),
        _v(at("2020-01-10T10:00"), "1.1.0", "Exploitcode publiek; mitigatie aangescherpt"),
        _v(at("2020-01-24T12:00"), "2.0.0", "Updates beschikbaar voor alle versies"),
    ], title="Kritieke kwetsbaarheid in Citrix ADC en Citrix Gateway", impact=True, nvulns=1,
        kinds=["path traversal"]))
    S.append(Spec("log4j", ["Log4j", "vCenter Server", "Confluence Server", "WebLogic Server"], [
        _v(at("2021-12-10T08:00"), "1.0.0", "Initiële versie"),
        _v(at("2021-12-11T12:00"), "1.1.0", "Lijst met kwetsbare producten uitgebreid"),
        _v(at("2021-12-14T09:00"), "2.0.0", "Tweede kwetsbaarheid toegevoegd; nieuwe updates"),
    ], title="Kritieke kwetsbaarheid in Apache Log4j", impact=True, nvulns=3, size="large",
        kinds=["remote code execution", "denial of service", "remote code execution"]))
    S.append(Spec("tlp-lowered", ["SIMATIC S7-1500 CPU"], [
        _v(at("2025-01-15T10:00"), "1.0.0", "Initiële versie (vertrouwelijk, vóór publicatie van de update)",
           "final", "AMBER"),
        _v(at("2025-01-29T10:00"), "2.0.0", "Update gepubliceerd; advies openbaar gemaakt", "final", "CLEAR"),
    ], title="Kwetsbaarheden verholpen in Siemens SIMATIC S7-1500", sectors=["energy"], nvulns=3))
    # -- Withdrawn.
    S.append(Spec("withdrawn", ["FortiProxy"], [_v(at("2022-08-02T11:00"), tlp="CLEAR")],
                  title="Kwetsbaarheid verholpen in Fortinet FortiProxy",
                  note="Dit advies is abusievelijk gepubliceerd en wordt ingetrokken.", withdraw=True))
    return S


# ---------------------------------------------------------------------------
# Random fillers
# ---------------------------------------------------------------------------

FILLER_TLP = (("CLEAR", 45), ("GREEN", 25), ("AMBER", 20), ("AMBER+STRICT", 5), ("RED", 5))
SIZES = (("small", 45), ("medium", 40), ("large", 15))


def _weighted(rng, pairs):
    total = sum(w for _, w in pairs)
    x = rng.uniform(0, total)
    for v, w in pairs:
        x -= w
        if x <= 0:
            return v
    return pairs[-1][0]


def _workday_time(rng, start, end):
    """A random time between start and end, on the hour or half hour, 07:00-18:30 UTC."""
    days = (end - start).days
    d = start + dt.timedelta(days=rng.randrange(max(days, 1)))
    return d.replace(hour=rng.randrange(7, 19), minute=rng.choice((0, 30)), second=0, microsecond=0)


def fillers(rng, n, now):
    """n random advisories released between 2019-01-01 and two days before now."""
    start, end = at("2019-01-01T00:00"), now - dt.timedelta(days=2)
    concern_pool = [o.slug for o in ORGS if {"vital", "other", "government"} & set(o.role_names())]
    out = []
    for k in range(n):
        vendor, product, _, hint = rng.choice(PRODUCTS)
        prods = [product]
        size = _weighted(rng, SIZES)
        if size == "large":   # a vendor's bundle of updates
            same = [p[1] for p in PRODUCTS if p[0] == vendor and p[1] != product]
            prods += rng.sample(same, min(len(same), rng.randrange(0, 4)))
        nvulns = {"small": rng.randrange(1, 3), "medium": rng.randrange(3, 9),
                  "large": rng.randrange(8, 20)}[size]
        tlp = _weighted(rng, FILLER_TLP)
        when = _workday_time(rng, start, end)
        concerns, sectors = [], []
        r = rng.random()
        if tlp in ("AMBER+STRICT", "RED") or (tlp == "AMBER" and r < 0.4):
            concerns = [rng.choice(concern_pool)]
            sectors = list(ORG_BY_SLUG[concerns[0]].sectors[:1])
        elif hint and r < 0.6:
            sectors = rng.sample(hint, rng.randrange(1, len(hint) + 1))
        elif r < 0.2:
            sectors = [rng.choice(SECTORS[:-1])]
        pd = tlp != "CLEAR" and rng.random() < 0.12
        impact = rng.random() < 0.15
        status = _weighted(rng, (("final", 93), ("interim", 5), ("draft", 2)))
        if status == "draft":    # CSAF: a draft carries a 0.y.z version
            versions = [_v(when, "0.1.0", "Concept", status, tlp)]
        else:
            versions = [_v(when, "1.0.0", "Initiële versie", status, tlp)]
        if status != "draft" and rng.random() < 0.1:   # an update some days later
            later = when + dt.timedelta(days=rng.randrange(1, 30), hours=rng.randrange(0, 6))
            if later < end:
                versions.append(_v(later, "1.1.0", rng.choice((
                    "Aanvullende informatie over misbruik toegevoegd",
                    "Updates beschikbaar voor aanvullende versies",
                    "Kans verhoogd: exploitcode publiek beschikbaar")), "final", tlp))
        out.append(Spec("filler-%03d" % k, prods, versions, concerns=concerns, sectors=sectors,
                        personal_data=pd, impact=impact, nvulns=nvulns, size=size))
    return out


def assign_ids(specs, reserved, rng):
    """NCSC-YYYY-NNNN by year of release, in release order, skipping reserved ids."""
    counters = {}
    for s in sorted(specs, key=lambda s: (s.released, s.key)):
        y = s.released.year
        n = counters.get(y, rng.randrange(1, 12))
        while True:
            tid = "NCSC-%d-%04d" % (y, n)
            n += rng.randrange(1, 9)
            if tid not in reserved:
                break
        counters[y] = n
        s.tracking_id = tid
    base = 10001
    for s in sorted(specs, key=lambda s: s.tracking_id):
        s.cve_base = base
        base += s.nvulns + 2


# ---------------------------------------------------------------------------
# Rendering one document
# ---------------------------------------------------------------------------

def _product_tree(rng, spec):
    """Branches vendor > product > version; returns (tree, [(pid, product, version, fixed)])."""
    vendors, rows, pid = {}, [], 1
    for name in spec.products:
        vendor, product, versions, _ = PRODUCT_BY_NAME[name]
        n = {"small": 2, "medium": 4, "large": len(versions)}[spec.size]
        chosen = versions[-min(n, len(versions)):] if spec.size != "small" else versions[-2:]
        vbranches = []
        for i, ver in enumerate(chosen):
            fixed = i == len(chosen) - 1
            p = "CSAFPID-%04d" % pid
            pid += 1
            label = "%s %s %s" % (vendor, product, ver)
            vbranches.append({"category": "product_version", "name": ver,
                              "product": {"name": label, "product_id": p}})
            rows.append((p, product, ver, fixed))
        vendors.setdefault(vendor, []).append(
            {"category": "product_name", "name": product, "branches": vbranches})
    tree = {"branches": [{"category": "vendor", "name": v, "branches": b} for v, b in vendors.items()]}
    return tree, rows


def _personal_data_note(rng, spec):
    org = ORG_BY_SLUG[spec.concerns[0]] if spec.concerns else None
    domain = (spec.concerns[0] if org else "example") + ".example"
    users = rng.sample(["j.devries", "a.jansen", "m.bakker", "s.visser", "p.smit", "r.mulder",
                        "e.degroot", "h.bos", "l.vos", "k.peters", "n.hendriks", "t.dekker"],
                       rng.randrange(3, 8))
    lines = ["Fictieve persoonsgegevens (demo): gebruikersnamen, e-mailadressen en IP-adressen."]
    for u in users:
        lines.append("%s@%s  laatst gezien vanaf 198.51.100.%d en 203.0.113.%d  wachtwoord: [in platte "
                     "tekst aangetroffen, hier weggelaten]" % (u, domain, rng.randrange(1, 255),
                                                               rng.randrange(1, 255)))
    return {"category": "other", "title": "Persoonsgegevens", "text": "\n".join(lines)}


def _vulnerability(rng, spec, k, rows, nth_version):
    if k < len(spec.kinds):
        kind = next(x for x in KINDS if x[0] == spec.kinds[k])
    else:
        kind = KINDS[(spec.cve_base + k * 7) % len(KINDS)]
    eng, schade, cwe, cwe_name, metrics = kind
    cve = "CVE-9999-%05d" % (spec.cve_base + k)
    affected = [p for p, _, _, fixed in rows if not fixed]
    fixed = [p for p, _, _, f in rows if f]
    products = sorted({prod for _, prod, _, _ in rows})
    prod = products[k % len(products)]
    affected_here = [p for p, pr, _, f in rows if pr == prod and not f] or affected
    fixed_here = [p for p, pr, _, f in rows if pr == prod and f] or fixed
    text = ("Door een kwetsbaarheid van het type %s (%s) in %s kan %s. Voor succesvol misbruik hoeft de aanvaller %s. "
            "Deze kwetsbaarheid is gevonden door een onderzoeker en gecoördineerd gemeld bij de leverancier."
            % (eng, cwe, prod, KIND_NL[eng],
               "geen voorafgaande toegang te hebben" if metrics[2] == "N" else "over een geldig account te beschikken"))
    if spec.size == "large":
        text += (" De kwetsbaarheid bevindt zich in de verwerking van verzoeken aan de beheerinterface; "
                 "onvoldoende validatie van invoer maakt het mogelijk om de beoogde controle te omzeilen. "
                 "Er is op dit moment geen publieke exploitcode bekend.")
    v = {
        "cve": cve,
        "title": "%s in %s" % (eng[0].upper() + eng[1:], prod),
        "cwe": {"id": cwe, "name": cwe_name},
        "notes": [{"category": "description", "title": "Beschrijving", "text": text}],
        "product_status": {"known_affected": affected_here, "fixed": fixed_here},
        "remediations": [{
            "category": "vendor_fix",
            "details": "De leverancier heeft updates uitgebracht om de kwetsbaarheid te verhelpen. "
                       "Zie de bijgevoegde referenties voor meer informatie.",
            "product_ids": affected_here,
            "url": "https://vendor.example/security/%s" % cve.lower(),
        }],
        "scores": [{"products": affected_here, "cvss_v3": cvss31(*metrics)}],
        "threats": [{"category": "impact", "details": schade, "product_ids": affected_here}],
        "references": [{"category": "external", "summary": "Fictieve CVE-vermelding (demo)",
                        "url": "https://cve.example/%s" % cve}],
    }
    if nth_version > 0 and k == 0:
        v["notes"].append({"category": "general", "title": "Update",
                           "text": "Informatie over misbruik en aanvullende versies toegevoegd."})
    return v


def render(spec, idx):
    """The CSAF document of version idx of spec (a dict ready for json.dumps)."""
    rng = random.Random("%s/%s" % (spec.tracking_id, spec.key))
    when, number, _, status, tlp = spec.versions[idx]
    tree, rows = _product_tree(rng, spec)
    kans = "high" if spec.impact or spec.incident else rng.choice(("low", "medium", "high"))
    schade = "high" if spec.impact else rng.choice(("low", "medium", "high"))
    title = spec.title
    if not title:
        prods = spec.products
        what = prods[0] if len(prods) == 1 else "%s-producten" % PRODUCT_BY_NAME[prods[0]][0]
        title = ("Kwetsbaarheid verholpen in %s" if spec.nvulns == 1
                 else "Kwetsbaarheden verholpen in %s") % what
        if spec.impact:
            title = "Kritieke " + title[0].lower() + title[1:]
    notes = [
        {"category": "legal_disclaimer", "title": "Demo-gegevens", "text": DISCLAIMER},
        {"category": "general", "title": "Kans", "text": kans},
        {"category": "general", "title": "Schade", "text": schade},
        {"category": "summary", "title": "Samenvatting", "text": (
            spec.incident or "De leverancier heeft %s verholpen in %s. %s" % (
                "een kwetsbaarheid" if spec.nvulns == 1 else "kwetsbaarheden",
                ", ".join(spec.products),
                "Een kwaadwillende kan deze kwetsbaarheden misbruiken om de systemen over te nemen."
                if schade == "high" else "Misbruik kan leiden tot beperkte schade."))},
    ]
    if spec.concerns:
        notes.append({"category": "general", "title": "Betrokken organisaties",
                      "text": ", ".join(ORG_BY_SLUG[c].name for c in spec.concerns)})
    if spec.sectors:
        notes.append({"category": "general", "title": "Sectoren", "text": ", ".join(spec.sectors)})
    if spec.note:
        notes.append({"category": "general", "title": "Let op", "text": spec.note})
    notes.append({"category": "details", "title": "Interpretaties", "text": (
        "Het NCSC adviseert de updates zo snel mogelijk te installeren%s." % (
            " en na te gaan of er sporen van misbruik zijn; wijzig bij twijfel alle inloggegevens"
            if spec.incident else ""))})
    notes.append({"category": "general", "title": "Oplossingen", "text": (
        "De leverancier heeft updates uitgebracht. Zie de referenties voor de versies waarin de "
        "kwetsbaarheden zijn verholpen.")})
    if spec.personal_data:
        notes.append(_personal_data_note(rng, spec))
    if spec.size == "large":
        notes.append({"category": "faq", "title": "Veelgestelde vragen", "text": (
            "Moet ik ook systemen patchen die niet vanaf internet bereikbaar zijn? Ja: aanvallers die "
            "al binnen zijn, misbruiken deze kwetsbaarheden om zich lateraal te verplaatsen.")})
    vulns = [_vulnerability(rng, spec, k, rows, idx) for k in range(spec.nvulns + min(idx, 1))]
    year = spec.released.year
    fname = csaf_filename(spec.tracking_id)
    history = [{"date": ts(d), "number": n, "summary": s} for d, n, s, _, _ in spec.versions[:idx + 1]]
    doc = {
        "document": {
            "category": "csaf_security_advisory",
            "csaf_version": "2.0",
            "distribution": {
                "text": "GENERATED DEMO DATA - not issued by NCSC-NL (advisoryfs scripts/demo-store)",
                "tlp": {"label": TLP_CSAF_LABEL[tlp], "url": "https://www.first.org/tlp/"},
            },
            "lang": "nl",
            "notes": notes,
            "publisher": dict(PUBLISHER),
            "references": [{
                "category": "self",
                "summary": "%s (demo)" % spec.tracking_id,
                "url": "https://www.ncsc.nl/demo/csaf/v2/%d/%s" % (year, fname),
            }],
            "title": title,
            "tracking": {
                "current_release_date": ts(when),
                "generator": {"date": ts(when),
                              "engine": {"name": "advisoryfs demo-store", "version": "1.0"}},
                "id": spec.tracking_id,
                "initial_release_date": ts(spec.released),
                "revision_history": history,
                "status": status,
                "version": number,
            },
        },
        "product_tree": tree,
        "vulnerabilities": vulns,
    }
    return doc


def dist_of(spec, idx):
    """The .dist.json companion of version idx."""
    d = {"tlp": spec.versions[idx][4]}
    if spec.concerns:
        d["concerns"] = spec.concerns
    if spec.sectors:
        d["sectors"] = spec.sectors
    if spec.personal_data:
        d["personal_data"] = True
    if spec.impact:
        d["impact"] = "significant"
    if spec.embargo:
        d["embargo_until"] = ts(spec.embargo)
    return d


def generate(outdir, seed, count, now, reserved_ids=()):
    """Write count advisories under outdir/v1, v2, v3 (folder vN holds the N-th
    version of each advisory).  Returns the list of Specs.

    Raises ValueError if count is smaller than the number of fixed scenarios."""
    rng = random.Random(seed)
    specs = scenarios(now)
    if count < len(specs):
        raise ValueError("--count must be at least %d (the fixed scenarios)" % len(specs))
    specs += fillers(rng, count - len(specs), now)
    assign_ids(specs, set(reserved_ids), rng)
    # Two more withdrawals, chosen among the public single-version fillers.
    pool = [s for s in specs if s.key.startswith("filler-") and len(s.versions) == 1
            and s.versions[0][4] in ("CLEAR", "GREEN")]
    for s in rng.sample(pool, min(2, len(pool))):
        s.withdraw = True
    for s in specs:
        for idx in range(len(s.versions)):
            folder = os.path.join(outdir, "v%d" % (idx + 1), str(s.released.year))
            os.makedirs(folder, exist_ok=True)
            path = os.path.join(folder, csaf_filename(s.tracking_id))
            with open(path, "w", encoding="utf-8") as f:
                json.dump(render(s, idx), f, ensure_ascii=False, indent=2)
                f.write("\n")
            with open(path + ".dist.json", "w", encoding="utf-8") as f:
                json.dump(dist_of(s, idx), f, ensure_ascii=False)
                f.write("\n")
    return specs


# ---------------------------------------------------------------------------
# 3. Checks
# ---------------------------------------------------------------------------

def check_document(doc, filename=None):
    """Problems (list of strings) with a CSAF document against SPEC.md's
    publishing rules: required fields and types, csaf_version 2.0, RFC 3339
    dates, a known TLP label, version = last revision, file name rule."""
    errs = []

    def get(obj, path):
        for part in path.split("."):
            if not isinstance(obj, dict) or part not in obj:
                return None
            obj = obj[part]
        return obj

    if not isinstance(doc, dict) or not isinstance(doc.get("document"), dict):
        return ["document: missing"]
    for path in ("document.category", "document.title", "document.tracking.id",
                 "document.tracking.status", "document.tracking.version",
                 "document.publisher.name", "document.publisher.namespace",
                 "document.publisher.category"):
        v = get(doc, path)
        if not isinstance(v, str) or not v:
            errs.append("%s: missing or not a non-empty string" % path)
    if get(doc, "document.csaf_version") != "2.0":
        errs.append("document.csaf_version: not \"2.0\"")
    if get(doc, "document.tracking.status") not in ("draft", "interim", "final"):
        errs.append("document.tracking.status: not draft/interim/final")
    dates = {}
    for key in ("initial_release_date", "current_release_date"):
        v = get(doc, "document.tracking." + key)
        dates[key] = parse_rfc3339(v)
        if dates[key] is None:
            errs.append("document.tracking.%s: not an RFC 3339 date-time: %r" % (key, v))
    if all(dates.values()) and dates["current_release_date"] < dates["initial_release_date"]:
        errs.append("document.tracking.current_release_date: before initial_release_date")
    hist = get(doc, "document.tracking.revision_history")
    if not isinstance(hist, list) or not hist:
        errs.append("document.tracking.revision_history: missing or empty")
    else:
        for i, h in enumerate(hist):
            if not isinstance(h, dict) or parse_rfc3339(h.get("date")) is None \
                    or not h.get("number") or not h.get("summary"):
                errs.append("document.tracking.revision_history[%d]: bad entry" % i)
        if isinstance(hist[-1], dict) and hist[-1].get("number") != get(doc, "document.tracking.version"):
            errs.append("document.tracking.version: differs from the last revision_history number")
    label = get(doc, "document.distribution.tlp.label")
    if label is not None and label not in CSAF_LABEL_TLP:
        errs.append("document.distribution.tlp.label: unknown label %r" % label)
    tid = get(doc, "document.tracking.id")
    if filename and isinstance(tid, str) and tid and csaf_filename(tid) != filename:
        errs.append("file name %s is not the section 5.1 name %s" % (filename, csaf_filename(tid)))
    return errs


def check_dist(dist, doc_label):
    """Problems with a .dist.json companion (keys, types, vocabulary, TLP only tightening)."""
    errs = []
    if not isinstance(dist, dict):
        return ["not a JSON object"]
    for k in dist:
        if k not in DIST_KEYS:
            errs.append("unknown key %r" % k)
    tlp = dist.get("tlp")
    if tlp is not None and tlp not in TLPS:
        errs.append("tlp: unknown %r" % tlp)
    if tlp is None and doc_label is None:
        errs.append("tlp: the document has no label and the companion gives none")
    if tlp in TLPS and doc_label in CSAF_LABEL_TLP and \
            TLPS.index(tlp) < TLPS.index(CSAF_LABEL_TLP[doc_label]):
        errs.append("tlp: %s would loosen the document's %s" % (tlp, doc_label))
    for c in dist.get("concerns", []):
        if not SLUG_RE.match(c) or c not in ORG_BY_SLUG:
            errs.append("concerns: unknown organisation %r" % c)
    for s in dist.get("sectors", []):
        if s not in SECTORS:
            errs.append("sectors: %r is not in the policy's vocabulary" % s)
    if "personal_data" in dist and not isinstance(dist["personal_data"], bool):
        errs.append("personal_data: not a boolean")
    if "impact" in dist and dist["impact"] != "significant":
        errs.append("impact: not \"significant\"")
    if "embargo_until" in dist and parse_rfc3339(dist["embargo_until"]) is None:
        errs.append("embargo_until: not an RFC 3339 date-time")
    return errs


class SchemaChecker:
    """A small JSON Schema validator: enough of draft 2020-12 / draft-07 for
    the CSAF 2.0 schema and the FIRST CVSS schemas it references ($ref,
    type, properties, required, additionalProperties, items, minItems,
    uniqueItems, enum, const, pattern, minLength, maxLength, minimum,
    maximum, oneOf, anyOf, allOf, minProperties, maxProperties, format
    date-time and uri).  External $refs are looked up by file name in the
    schema's own directory."""

    def __init__(self, schema_path):
        self.dir = os.path.dirname(os.path.abspath(schema_path))
        self.cache = {}
        self.root = self._load(os.path.basename(schema_path))

    def _load(self, name):
        if name not in self.cache:
            with open(os.path.join(self.dir, name), encoding="utf-8") as f:
                self.cache[name] = json.load(f)
        return self.cache[name]

    def _resolve(self, ref, root):
        url, _, frag = ref.partition("#")
        if url:
            root = self._load(url.rsplit("/", 1)[-1].split("?")[0])
        node = root
        for part in [p for p in frag.split("/") if p]:
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node, root

    def validate(self, inst, schema=None, root=None, path="$", errs=None, limit=20):
        """Errors (list of 'path: problem') of inst against the schema."""
        if errs is None:
            errs = []
        if schema is None:
            schema, root = self.root, self.root
        if len(errs) >= limit or schema is True:
            return errs
        if "$ref" in schema:
            sub, subroot = self._resolve(schema["$ref"], root)
            self.validate(inst, sub, subroot, path, errs, limit)
        t = schema.get("type")
        if t is not None:
            types = t if isinstance(t, list) else [t]
            if not any(self._is_type(inst, x) for x in types):
                errs.append("%s: not of type %s" % (path, "/".join(types)))
                return errs
        if "enum" in schema and inst not in schema["enum"]:
            errs.append("%s: %r not in enum" % (path, inst))
        if "const" in schema and inst != schema["const"]:
            errs.append("%s: not %r" % (path, schema["const"]))
        if isinstance(inst, str):
            if "minLength" in schema and len(inst) < schema["minLength"]:
                errs.append("%s: shorter than %d" % (path, schema["minLength"]))
            if "maxLength" in schema and len(inst) > schema["maxLength"]:
                errs.append("%s: longer than %d" % (path, schema["maxLength"]))
            if "pattern" in schema and not re.search(schema["pattern"], inst):
                errs.append("%s: %r does not match %s" % (path, inst[:60], schema["pattern"][:60]))
            fmt = schema.get("format")
            if fmt == "date-time" and parse_rfc3339(inst) is None:
                errs.append("%s: not an RFC 3339 date-time" % path)
            if fmt == "uri" and not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]*$", inst):
                errs.append("%s: not a URI" % path)
        if isinstance(inst, (int, float)) and not isinstance(inst, bool):
            if "minimum" in schema and inst < schema["minimum"]:
                errs.append("%s: below %s" % (path, schema["minimum"]))
            if "maximum" in schema and inst > schema["maximum"]:
                errs.append("%s: above %s" % (path, schema["maximum"]))
        if isinstance(inst, dict):
            for k in schema.get("required", []):
                if k not in inst:
                    errs.append("%s: required property %r missing" % (path, k))
            if "minProperties" in schema and len(inst) < schema["minProperties"]:
                errs.append("%s: fewer than %d properties" % (path, schema["minProperties"]))
            if "maxProperties" in schema and len(inst) > schema["maxProperties"]:
                errs.append("%s: more than %d properties" % (path, schema["maxProperties"]))
            props = schema.get("properties", {})
            for k, v in inst.items():
                if k in props:
                    self.validate(v, props[k], root, "%s.%s" % (path, k), errs, limit)
                elif schema.get("additionalProperties") is False:
                    errs.append("%s: unexpected property %r" % (path, k))
                elif isinstance(schema.get("additionalProperties"), dict):
                    self.validate(v, schema["additionalProperties"], root, "%s.%s" % (path, k),
                                  errs, limit)
        if isinstance(inst, list):
            if "minItems" in schema and len(inst) < schema["minItems"]:
                errs.append("%s: fewer than %d items" % (path, schema["minItems"]))
            if schema.get("uniqueItems"):
                seen = [json.dumps(x, sort_keys=True) for x in inst]
                if len(set(seen)) != len(seen):
                    errs.append("%s: items not unique" % path)
            if isinstance(schema.get("items"), dict):
                for i, x in enumerate(inst):
                    self.validate(x, schema["items"], root, "%s[%d]" % (path, i), errs, limit)
        for sub in schema.get("allOf", []):
            self.validate(inst, sub, root, path, errs, limit)
        if "anyOf" in schema:
            if not any(not self.validate(inst, s, root, path, [], limit) for s in schema["anyOf"]):
                errs.append("%s: matches none of anyOf" % path)
        if "oneOf" in schema:
            n = sum(1 for s in schema["oneOf"] if not self.validate(inst, s, root, path, [], limit))
            if n != 1:
                errs.append("%s: matches %d of oneOf (need exactly 1)" % (path, n))
        return errs

    @staticmethod
    def _is_type(v, t):
        return {
            "object": lambda: isinstance(v, dict),
            "array": lambda: isinstance(v, list),
            "string": lambda: isinstance(v, str),
            "boolean": lambda: isinstance(v, bool),
            "null": lambda: v is None,
            "integer": lambda: isinstance(v, int) and not isinstance(v, bool),
            "number": lambda: isinstance(v, (int, float)) and not isinstance(v, bool),
        }[t]()
