"""Every shape the API sends or accepts, declared once as a pydantic class.

The views build these (see ``representations.py``) and send them serialised by the class; the
OpenAPI document at ``/api/openapi.json`` is generated from the same classes (``openapi.py``),
and the OSDI record signature helper validates its JSON body against ``OsdiRecordSignature``.

Why pydantic (v2): the schema is a typed class that mypy checks where the views build it; its
JSON Schema (draft 2020-12, i.e. OpenAPI 3.1) comes from the class, so document and behaviour
cannot drift apart; and its JSON parser (written in Rust) takes raw bytes and refuses invalid
UTF-8, over-deep nesting and wrong types with errors that name the field, so no input reaches
Python's recursion limit. Marshmallow (apispec/flask-smorest) would mean a second, slower
validation layer with no typed objects; spectree ties responses to ``application/json`` and
its own error format, while OSDI answers are ``application/hal+json`` and ours are
``{"error", "status", "errors"}``.

Names: response classes are the component names in the document (``Action``, ``OsdiPetition``);
request classes end in ``Input``. Fields whose wire names are not Python names (``_links``,
``self``, ``petitions:kind``) carry them as aliases: ``serialization_alias`` on responses,
which the views build by Python name, ``alias`` on requests, which are read from the wire.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictStr
from pydantic_core import PydanticCustomError, PydanticUseDefault

from petitions.campaigns.models import ActionKind

MAX_INT = 2**31 - 1  # ids of campaigns and actions (INTEGER)
MAX_BIGINT = 2**63 - 1  # ids of signatures (BIGINT)
MAX_PAGE = 100_000
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 25

Count = Annotated[int, Field(ge=0)]
Percent = Annotated[int, Field(ge=0, le=100)]
State = Literal["open", "closed"]


def _absent_if_none(value: object) -> bool:
    return value is None


def optional() -> Any:
    """A field left out of the JSON (not ``null``) when it has no value."""
    return Field(None, exclude_if=_absent_if_none)


class Out(BaseModel):
    """A response shape: every field is always present (``null`` where it may be)."""

    model_config = ConfigDict(
        serialize_by_alias=True,
        json_schema_serialization_defaults_required=True,
        frozen=True,
    )


class Input(BaseModel):
    """A request shape: strict JSON types, unknown members ignored (OSDI clients send more)."""

    model_config = ConfigDict(
        strict=True, extra="ignore", validate_by_alias=True, validate_by_name=False
    )


# --- shared ----------------------------------------------------------------------------------


class Error(BaseModel):
    """Every 4xx: a sentence, the status, and for 422 the fields (by path) that were wrong."""

    model_config = ConfigDict(frozen=True)

    error: str
    status: int
    errors: dict[str, list[str]] | None = optional()


def _whole_number(value: object) -> object:
    """Query-string digits only (no signs, spaces, ``1.0`` or ``1_000``); empty means default."""
    if isinstance(value, str):
        if value == "":
            raise PydanticUseDefault()
        if not value.isascii() or not value.isdigit() or len(value) > 9:
            raise PydanticCustomError("whole_number", "Input should be a whole number from 1")
        return int(value)
    return value


WholeNumber = Annotated[int, BeforeValidator(_whole_number)]


class PageQuery(BaseModel):
    """``page`` and ``per_page`` in the query string of every list."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    page: WholeNumber = Field(1, ge=1, le=MAX_PAGE)
    per_page: WholeNumber = Field(DEFAULT_PER_PAGE, ge=1, le=MAX_PER_PAGE)


# --- public API (/api/v1) --------------------------------------------------------------------


class ApiIndexLinks(Out):
    campaigns: str
    actions: str
    events: str
    openapi: str
    osdi: str


class ApiIndex(Out):
    name: str
    version: int
    links: ApiIndexLinks


class PageLinks(Out):
    self_: str = Field(serialization_alias="self")
    first: str
    last: str
    next: str | None
    prev: str | None


class ActionLinks(Out):
    self_: str = Field(serialization_alias="self")
    count: str
    page: str
    embed: str


class Action(Out):
    id: int
    slug: str
    campaign: str
    kind: ActionKind
    title: str
    text: str
    target: str | None
    goal: int
    deadline: date | None
    state: State
    confirmed: Count
    percent: Percent
    links: ActionLinks


class CountryCount(Out):
    country: str
    count: Count


class AreaCount(Out):
    area: str
    count: Count


class DayCount(Out):
    day: date
    count: Count


class SourceCount(Out):
    source: str
    count: Count


class SiteCount(Out):
    site: str
    count: Count


class Breakdowns(Out):
    """Confirmed signatures by country, UK postcode area, day, source and referring site."""

    by_country: list[CountryCount]
    by_postcode_area: list[AreaCount]
    by_day: list[DayCount]
    by_source: list[SourceCount]
    by_referrer: list[SiteCount]


class TimelineEntry(Out):
    """One entry of an action's public timeline: the target's response, a debate, victory."""

    kind: Literal["response", "debated", "update", "victory"]
    title: str
    text: str  # Markdown, as shown (sanitised) on the action's page
    link: str | None
    happened_on: date


class ActionDetail(Action):
    breakdowns: Breakdowns
    timeline: list[TimelineEntry]


class CampaignLinks(Out):
    self_: str = Field(serialization_alias="self")
    page: str


class Campaign(Out):
    slug: str
    title: str
    summary: str
    body: str
    image_url: str | None
    state: Literal["live", "closed"]
    published_at: datetime | None
    actions: list[Action]
    links: CampaignLinks


class CampaignPage(Out):
    data: list[Campaign]
    page: int
    per_page: int
    total: int
    pages: int
    links: PageLinks


class ActionPage(Out):
    data: list[Action]
    page: int
    per_page: int
    total: int
    pages: int
    links: PageLinks


class EventLinks(Out):
    page: str
    ics: str
    embed: str
    campaign: str


class EventPlace(Out):
    venue: str
    address: str
    postcode: str
    postcode_area: str
    online: bool  # the link itself goes only to confirmed attendees


class Event(Out):
    """An upcoming public event (no personal data: no attendees, no host, no online link)."""

    id: int
    slug: str
    campaign: str
    title: str
    description: str
    starts_at: datetime  # UTC
    ends_at: datetime
    timezone: str  # shown to visitors in this zone
    local_start: str  # ISO 8601 with the zone's offset at that moment
    place: EventPlace
    capacity: int | None
    going: Count
    places_left: int | None
    waitlist: bool
    full: bool
    hosted: bool  # proposed by a supporter (and approved)
    nearness: str | None  # with ?postcode=: how near, in words
    links: EventLinks


class EventList(Out):
    data: list[Event]
    total: int
    limit: int


class EventsQuery(BaseModel):
    """``postcode`` (full or partial) orders the list nearest first."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    postcode: str = Field("", max_length=16, pattern=r"^[A-Za-z0-9 ]*$")


class ActionCount(Out):
    """The counter alone, for embeds and pages that poll."""

    action: int
    confirmed: Count
    goal: int
    percent: Percent
    state: State
    updated_at: datetime | None


class TargetCount(Out):
    """One recipient of a letter action, the confirmed letters written to it and how many were
    delivered (counted by the workers; no supporters)."""

    target: int
    name: str
    title: str
    organisation: str
    constituency_code: str | None
    stance: Literal["supports", "opposes", "responded"] | None
    letters: Count
    delivered: Count


class LetterTargets(Out):
    """Letters per recipient of a letter action."""

    action: int
    targets: list[TargetCount]


# --- OSDI (/api/osdi/v1), HAL+JSON -----------------------------------------------------------


class Link(Out):
    href: str


class Curie(Out):
    name: str
    href: str
    templated: bool


class OsdiEntryPointLinks(Out):
    self_: Link = Field(serialization_alias="self")
    curies: list[Curie]
    petitions: Link = Field(serialization_alias="osdi:petitions")
    signatures: Link = Field(serialization_alias="osdi:signatures")
    events: Link = Field(serialization_alias="osdi:events")
    docs: Link


class OsdiEntryPoint(Out):
    motd: str
    vendor_name: str
    product_name: str
    osdi_version: str
    max_pagesize: int
    namespace: str
    links: OsdiEntryPointLinks = Field(serialization_alias="_links")


class OsdiTarget(Out):
    name: str


class OsdiPetitionLinks(Out):
    self_: Link = Field(serialization_alias="self")
    signatures: Link = Field(serialization_alias="osdi:signatures")
    record_signature_helper: Link = Field(serialization_alias="osdi:record_signature_helper")


class OsdiPetition(Out):
    """One of our actions (petition or pledge) as an OSDI petition."""

    identifiers: list[str]
    origin_system: str
    created_date: datetime
    modified_date: datetime
    name: str
    title: str
    description: str
    petition_text: str
    target: list[OsdiTarget]
    total_signatures: Count
    browser_url: str
    featured_image_url: str | None
    kind: ActionKind = Field(serialization_alias="petitions:kind")
    goal: int = Field(serialization_alias="petitions:goal")
    end_date: date | None = Field(serialization_alias="petitions:end_date")
    state: State = Field(serialization_alias="petitions:state")
    campaign: str = Field(serialization_alias="petitions:campaign")
    pledge_options: list[str] = Field(serialization_alias="petitions:pledge_options")
    links: OsdiPetitionLinks = Field(serialization_alias="_links")


class OsdiEmailAddress(Out):
    address: str
    primary: bool
    status: Literal["subscribed", "unsubscribed"]


class OsdiPostalAddress(Out):
    postal_code: str
    country: str
    primary: bool


class OsdiPerson(Out):
    given_name: str
    family_name: str
    email_addresses: list[OsdiEmailAddress]
    postal_addresses: list[OsdiPostalAddress]


class OsdiReferrerData(Out):
    source: str
    website: str


class OsdiSignatureEmbedded(Out):
    person: OsdiPerson = Field(serialization_alias="osdi:person")


class OsdiSignatureLinks(Out):
    self_: Link = Field(serialization_alias="self")
    petition: Link = Field(serialization_alias="osdi:petition")


class OsdiSignature(Out):
    """A signature with its person: only ever shown to the campaign's own organisers."""

    identifiers: list[str]
    origin_system: str
    created_date: datetime
    modified_date: datetime
    comments: str
    referrer_data: OsdiReferrerData
    status: Literal["pending", "confirmed", "withdrawn", "invalidated"] = Field(
        serialization_alias="petitions:status"
    )
    confirmed_date: datetime | None = Field(serialization_alias="petitions:confirmed_date")
    pledge_option: str | None = Field(serialization_alias="petitions:pledge_option")
    # Answers to the action's custom questions by question key (sensitive ones left out).
    answers: dict[str, str] = Field(serialization_alias="petitions:answers")
    embedded: OsdiSignatureEmbedded = Field(serialization_alias="_embedded")
    links: OsdiSignatureLinks = Field(serialization_alias="_links")


class OsdiAcceptedLinks(Out):
    curies: list[Curie]
    petition: Link = Field(serialization_alias="osdi:petition")


class OsdiSignatureAccepted(Out):
    """What the helper answers anyone who may not see the signature: the same every time."""

    status: Literal["pending_confirmation"] = Field(serialization_alias="petitions:status")
    message: str
    links: OsdiAcceptedLinks = Field(serialization_alias="_links")


class OsdiCollectionLinks(Out):
    self_: Link = Field(serialization_alias="self")
    curies: list[Curie]
    next: Link | None = optional()
    prev: Link | None = optional()


class OsdiPetitionsLinks(OsdiCollectionLinks):
    petitions: list[Link] = Field(serialization_alias="osdi:petitions")


class OsdiSignaturesLinks(OsdiCollectionLinks):
    signatures: list[Link] = Field(serialization_alias="osdi:signatures")


class OsdiPetitionsEmbedded(Out):
    petitions: list[OsdiPetition] = Field(serialization_alias="osdi:petitions")


class OsdiSignaturesEmbedded(Out):
    signatures: list[OsdiSignature] = Field(serialization_alias="osdi:signatures")


class OsdiCollection(Out):
    total_pages: int
    per_page: int
    page: int
    total_records: int


class OsdiPetitions(OsdiCollection):
    links: OsdiPetitionsLinks = Field(serialization_alias="_links")
    embedded: OsdiPetitionsEmbedded = Field(serialization_alias="_embedded")


class OsdiSignatures(OsdiCollection):
    links: OsdiSignaturesLinks = Field(serialization_alias="_links")
    embedded: OsdiSignaturesEmbedded = Field(serialization_alias="_embedded")


class OsdiAdvocacyTarget(Out):
    title: str
    organization: str
    given_name: str
    family_name: str


class OsdiAdvocacyCampaignLinks(Out):
    self_: Link = Field(serialization_alias="self")
    record_outreach_helper: Link = Field(serialization_alias="osdi:record_outreach_helper")


class OsdiAdvocacyCampaign(Out):
    """A letter action as an OSDI advocacy campaign (email outreach to its targets)."""

    identifiers: list[str]
    origin_system: str
    created_date: datetime
    modified_date: datetime
    name: str
    title: str
    description: str
    template: str
    browser_url: str
    type: Literal["email"]
    targets: list[OsdiAdvocacyTarget]
    total_outreaches: Count
    state: State = Field(serialization_alias="petitions:state")
    campaign: str = Field(serialization_alias="petitions:campaign")
    to_representative: bool = Field(serialization_alias="petitions:to_representative")
    links: OsdiAdvocacyCampaignLinks = Field(serialization_alias="_links")


class OsdiAdvocacyCampaignsLinks(OsdiCollectionLinks):
    advocacy_campaigns: list[Link] = Field(serialization_alias="osdi:advocacy_campaigns")


class OsdiAdvocacyCampaignsEmbedded(Out):
    advocacy_campaigns: list[OsdiAdvocacyCampaign] = Field(
        serialization_alias="osdi:advocacy_campaigns"
    )


class OsdiAdvocacyCampaigns(OsdiCollection):
    links: OsdiAdvocacyCampaignsLinks = Field(serialization_alias="_links")
    embedded: OsdiAdvocacyCampaignsEmbedded = Field(serialization_alias="_embedded")


class OsdiOutreachAcceptedLinks(Out):
    curies: list[Curie]
    advocacy_campaign: Link = Field(serialization_alias="osdi:advocacy_campaign")


class OsdiOutreachAccepted(Out):
    """What the record outreach helper answers: the same whoever the person is."""

    status: Literal["pending_confirmation"] = Field(serialization_alias="petitions:status")
    message: str
    targets: list[OsdiAdvocacyTarget]
    links: OsdiOutreachAcceptedLinks = Field(serialization_alias="_links")


class OsdiOutreachTarget(OsdiAdvocacyTarget):
    """A recipient of one letter, and how far that copy got."""

    delivery: str | None = Field(serialization_alias="petitions:delivery")


class OsdiOutreachLinks(Out):
    self_: Link = Field(serialization_alias="self")
    advocacy_campaign: Link = Field(serialization_alias="osdi:advocacy_campaign")
    signature: Link = Field(serialization_alias="petitions:signature")


class OsdiOutreach(Out):
    """One supporter's letter with its person: only ever shown to the campaign's organisers."""

    identifiers: list[str]
    origin_system: str
    created_date: datetime
    modified_date: datetime
    type: Literal["email"]
    subject: str
    message: str  # the words as they wrote them ("" once erased)
    targets: list[OsdiOutreachTarget]
    status: Literal["pending", "confirmed", "withdrawn", "invalidated"] = Field(
        serialization_alias="petitions:status"
    )
    constituency: str | None = Field(serialization_alias="petitions:constituency")
    embedded: OsdiSignatureEmbedded = Field(serialization_alias="_embedded")
    links: OsdiOutreachLinks = Field(serialization_alias="_links")


class OsdiOutreachesLinks(OsdiCollectionLinks):
    outreaches: list[Link] = Field(serialization_alias="osdi:outreaches")


class OsdiOutreachesEmbedded(Out):
    outreaches: list[OsdiOutreach] = Field(serialization_alias="osdi:outreaches")


class OsdiOutreaches(OsdiCollection):
    links: OsdiOutreachesLinks = Field(serialization_alias="_links")
    embedded: OsdiOutreachesEmbedded = Field(serialization_alias="_embedded")


# --- OSDI events and attendances -------------------------------------------------------------


class OsdiEventLocation(Out):
    venue: str
    address_lines: list[str]
    postal_code: str
    country: str


class OsdiEventLinks(Out):
    self_: Link = Field(serialization_alias="self")
    attendances: Link = Field(serialization_alias="osdi:attendances")
    record_attendance_helper: Link = Field(serialization_alias="osdi:record_attendance_helper")


class OsdiEvent(Out):
    """An event as OSDI (and Action Network) describe one. No attendee, host or online link."""

    identifiers: list[str]
    origin_system: str
    created_date: datetime
    modified_date: datetime
    name: str
    title: str
    description: str
    browser_url: str
    type: Literal["open", "ticketed"]
    status: Literal["confirmed", "cancelled"]
    start_date: datetime
    end_date: datetime
    timezone: str = Field(serialization_alias="petitions:timezone")
    location: OsdiEventLocation | None
    online: bool = Field(serialization_alias="petitions:online")
    capacity: int | None
    total_accepted: Count
    waitlisted: Count = Field(serialization_alias="petitions:waitlisted")
    visibility: Literal["public"]
    guests_can_invite_others: bool
    state: State = Field(serialization_alias="petitions:state")
    campaign: str = Field(serialization_alias="petitions:campaign")
    links: OsdiEventLinks = Field(serialization_alias="_links")


class OsdiEventsLinks(OsdiCollectionLinks):
    events: list[Link] = Field(serialization_alias="osdi:events")


class OsdiEventsEmbedded(Out):
    events: list[OsdiEvent] = Field(serialization_alias="osdi:events")


class OsdiEvents(OsdiCollection):
    links: OsdiEventsLinks = Field(serialization_alias="_links")
    embedded: OsdiEventsEmbedded = Field(serialization_alias="_embedded")


class OsdiAttendanceLinks(Out):
    self_: Link = Field(serialization_alias="self")
    event: Link = Field(serialization_alias="osdi:event")


class OsdiAttendance(Out):
    """An RSVP with its person: only ever shown to the campaign's own organisers. Answers
    marked sensitive (e.g. access needs) are not in it: they stay on the organisers' pages."""

    identifiers: list[str]
    origin_system: str
    created_date: datetime
    modified_date: datetime
    status: Literal["accepted", "tentative", "declined", "needs action"]
    rsvp_status: Literal["pending", "going", "waitlisted", "full", "cancelled"] = Field(
        serialization_alias="petitions:rsvp_status"
    )
    attended: bool
    answers: dict[str, str] = Field(serialization_alias="petitions:answers")
    referrer_data: OsdiReferrerData
    embedded: OsdiSignatureEmbedded = Field(serialization_alias="_embedded")
    links: OsdiAttendanceLinks = Field(serialization_alias="_links")


class OsdiAttendancesLinks(OsdiCollectionLinks):
    attendances: list[Link] = Field(serialization_alias="osdi:attendances")


class OsdiAttendancesEmbedded(Out):
    attendances: list[OsdiAttendance] = Field(serialization_alias="osdi:attendances")


class OsdiAttendances(OsdiCollection):
    links: OsdiAttendancesLinks = Field(serialization_alias="_links")
    embedded: OsdiAttendancesEmbedded = Field(serialization_alias="_embedded")


class OsdiAttendanceAcceptedLinks(Out):
    curies: list[Curie]
    event: Link = Field(serialization_alias="osdi:event")


class OsdiAttendanceAccepted(Out):
    """What the record attendance helper answers: the same whoever the person is."""

    status: Literal["pending_confirmation"] = Field(serialization_alias="petitions:status")
    message: str
    links: OsdiAttendanceAcceptedLinks = Field(serialization_alias="_links")


# --- OSDI record signature helper: the request body ------------------------------------------


class OsdiEmailAddressInput(Input):
    address: StrictStr | None = None
    primary: StrictBool | None = None


class OsdiPostalAddressInput(Input):
    postal_code: StrictStr | None = None
    country: StrictStr | None = None
    primary: StrictBool | None = None


class OsdiPersonInput(Input):
    given_name: StrictStr | None = None
    family_name: StrictStr | None = None
    email_addresses: list[OsdiEmailAddressInput] | None = None
    postal_addresses: list[OsdiPostalAddressInput] | None = None


class OsdiReferrerDataInput(Input):
    source: StrictStr | None = None
    website: StrictStr | None = None


class OsdiAutoresponseInput(Input):
    enabled: StrictBool = True


class OsdiTriggersInput(Input):
    autoresponse: OsdiAutoresponseInput | None = None


class OsdiRecordSignature(Input):
    """The record signature helper's body. Only ``person`` is required by the schema; what a
    signature needs (name, email, postcode…) is checked by the web form's own validators."""

    person: OsdiPersonInput
    comments: StrictStr | None = None
    referrer_data: OsdiReferrerDataInput | None = None
    triggers: OsdiTriggersInput | None = None
    pledge_option: StrictStr | None = Field(None, alias="petitions:pledge_option")


class OsdiRecordAttendance(Input):
    """The record attendance helper's body: ``person`` as for signatures, and the answers to
    the event's questions by key (``petitions:answers``), checked as the RSVP form checks them."""

    person: OsdiPersonInput
    referrer_data: OsdiReferrerDataInput | None = None
    triggers: OsdiTriggersInput | None = None
    answers: dict[StrictStr, StrictStr] | None = Field(None, alias="petitions:answers")


class OsdiRecordOutreach(Input):
    """The record outreach helper's body. ``message`` is the supporter's letter (the action's
    template when absent); ``petitions:constituency`` picks the constituency of a postcode
    that straddles two. Everything else is checked by the web form's own validators."""

    person: OsdiPersonInput
    message: StrictStr | None = None
    referrer_data: OsdiReferrerDataInput | None = None
    constituency: StrictStr | None = Field(None, alias="petitions:constituency")
