"""The feed validator: every rule fires on a feed that breaks it and stays quiet on a clean one."""

from __future__ import annotations

import contextlib
import io
import json
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from lxml import etree
from PIL import Image

from pipeline.cli import rules_lines, validate_github, validate_json, validate_lines
from pipeline.errors import ExitCode, PipelineError, UnreadableFeed
from pipeline.progress import ListReporter
from pipeline.validate import (
    PROFILES,
    RULES,
    Report,
    Severity,
    parse_rfc2822,
    podcast_guid,
    read_source,
    validate,
)

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
FIXTURES = Path(__file__).parent / "fixtures" / "feeds"
FEED_URL = "https://podcast.example.com/feed.xml"
NS = {
    "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
    "podcast": "https://podcastindex.org/namespace/1.0",
    "atom": "http://www.w3.org/2005/Atom",
    "content": "http://purl.org/rss/1.0/modules/content/",
    "psc": "http://podlove.org/simple-chapters",
}
_DECLS = " ".join(f'xmlns:{p}="{u}"' for p, u in NS.items())

#: A feed that satisfies every offline rule: two episodes, every recommended itunes: and podcast: tag.
BASE = f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" {_DECLS}>
  <channel>
    <title>Knees and Trails</title>
    <link>https://podcast.example.com/</link>
    <description><![CDATA[<p>A show about running without pain.</p>]]></description>
    <language>en-us</language>
    <copyright>Jane Runner</copyright>
    <lastBuildDate>Tue, 02 Jan 2024 09:00:00 +0000</lastBuildDate>
    <atom:link href="{FEED_URL}" rel="self" type="application/rss+xml"/>
    <itunes:author>Jane Runner</itunes:author>
    <itunes:owner><itunes:name>Jane Runner</itunes:name><itunes:email>jane@example.com</itunes:email></itunes:owner>
    <itunes:image href="https://podcast.example.com/cover.jpg"/>
    <itunes:category text="Health &amp; Fitness"><itunes:category text="Fitness"/></itunes:category>
    <itunes:category text="Sports"><itunes:category text="Running"/></itunes:category>
    <itunes:explicit>false</itunes:explicit>
    <itunes:type>episodic</itunes:type>
    <podcast:guid>{podcast_guid(FEED_URL)}</podcast:guid>
    <podcast:locked owner="jane@example.com">yes</podcast:locked>
    <podcast:funding url="https://podcast.example.com/support">Support the show</podcast:funding>
    <podcast:person role="host" group="cast" href="https://podcast.example.com/jane"
      img="https://podcast.example.com/jane.jpg">Jane Runner</podcast:person>
    <podcast:txt purpose="applepodcastsverify">c0ffee-1234</podcast:txt>
    <podcast:updateFrequency rrule="FREQ=WEEKLY">Weekly</podcast:updateFrequency>
    <podcast:podroll><podcast:remoteItem feedGuid="917393e3-1b1e-5cef-ace4-edaa54e1f810"/></podcast:podroll>
    <podcast:medium>podcast</podcast:medium>
    <podcast:license>cc-by-4.0</podcast:license>
    <podcast:location rel="creator" geo="geo:51.4545,-2.5879" osm="R5746665" country="GB">Bristol</podcast:location>
    <podcast:trailer pubdate="Mon, 01 Jan 2024 08:00:00 GMT" url="https://media.example.com/episodes/trailer.mp3"
      length="120000" type="audio/mpeg" season="1">Coming soon: Knees and Trails</podcast:trailer>
    <podcast:block id="google">yes</podcast:block>
    <podcast:images srcset="https://podcast.example.com/cover.jpg 1400w, https://podcast.example.com/cover-600.jpg 600w"/>
    <podcast:image href="https://podcast.example.com/cover.jpg" width="1400"/>
    <podcast:value type="lightning" method="keysend" suggested="0.00000005000">
      <podcast:valueRecipient name="Jane Runner" type="node"
        address="03ae9f91a0cb8ff43840e3c322c4c61f019d8c1c3cea15a25cfc425ac605e61a4a" split="90"/>
      <podcast:valueRecipient name="An app" type="lnaddress" address="app@getalby.com" split="10" fee="true"/>
    </podcast:value>
    <podcast:socialInteract priority="1" protocol="activitypub" uri="https://example.social/@jane/1" accountId="@jane"/>
    <item>
      <title>Why your knees hurt when you run</title>
      <link>https://podcast.example.com/episodes/knees/</link>
      <description><![CDATA[<p>Knees, <b>hips</b> and shoes.</p>]]></description>
      <content:encoded><![CDATA[<h2>Notes</h2><p>Knees, <b>hips</b> and shoes.</p>]]></content:encoded>
      <guid isPermaLink="false">knees-and-trails-knees</guid>
      <pubDate>Tue, 02 Jan 2024 09:00:00 +0000</pubDate>
      <enclosure url="https://media.example.com/episodes/knees.mp3" length="4823190" type="audio/mpeg"/>
      <itunes:duration>1805</itunes:duration>
      <itunes:episode>2</itunes:episode>
      <itunes:season>1</itunes:season>
      <itunes:episodeType>full</itunes:episodeType>
      <itunes:explicit>false</itunes:explicit>
      <itunes:image href="https://podcast.example.com/episodes/knees/cover.jpg"/>
      <podcast:season name="Basics">1</podcast:season>
      <podcast:episode display="Ep. 2">2</podcast:episode>
      <podcast:transcript url="https://podcast.example.com/episodes/knees/transcript.vtt" type="text/vtt"
        language="en" rel="captions"/>
      <podcast:chapters url="https://podcast.example.com/episodes/knees/chapters.json"
        type="application/json+chapters"/>
      <podcast:person role="guest" href="https://example.com/dr-ortho">Dr. Ortho</podcast:person>
      <podcast:soundbite startTime="73.0" duration="60.0">The one stretch</podcast:soundbite>
      <podcast:funding url="https://podcast.example.com/support/knees">Sponsor the knee series</podcast:funding>
      <podcast:license url="https://podcast.example.com/license">knees-license-1.0</podcast:license>
      <podcast:alternateEnclosure type="audio/x-m4a" length="3822000">
        <podcast:source uri="https://media.example.com/episodes/knees.m4a"/>
      </podcast:alternateEnclosure>
      <psc:chapters version="1.2">
        <psc:chapter start="00:00:00.000" title="Intro"/>
        <psc:chapter start="00:03:10.500" title="Shoes" href="https://example.com/shoes"/>
      </psc:chapters>
    </item>
    <item>
      <title>Trail running for beginners</title>
      <link>https://podcast.example.com/episodes/trails/</link>
      <description>First steps off the road.</description>
      <guid isPermaLink="false">knees-and-trails-trails</guid>
      <pubDate>Mon, 01 Jan 2024 09:00:00 GMT</pubDate>
      <enclosure url="https://media.example.com/episodes/trails.m4a" length="3100000" type="audio/x-m4a"/>
      <itunes:duration>00:25:10</itunes:duration>
      <itunes:episode>1</itunes:episode>
      <itunes:season>1</itunes:season>
      <itunes:episodeType>full</itunes:episodeType>
    </item>
  </channel>
</rss>
"""


def run(data: str | bytes, **kwargs: object) -> Report:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    kwargs.setdefault("source", "feed.xml")
    kwargs.setdefault("now", NOW)
    return validate(raw, **kwargs)  # type: ignore[arg-type]


# --- mutations of BASE -------------------------------------------------------------------------------------

Mutation = Callable[[str], bytes]


def _tree_edit(fn: Callable[[etree._Element], None]) -> Mutation:
    def apply(xml: str) -> bytes:
        root = etree.fromstring(xml.encode())
        fn(root)
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8")

    return apply


def _one(root: etree._Element, path: str) -> etree._Element:
    found = root.xpath(path, namespaces=NS)
    assert found, f"{path} matches nothing in the base feed"
    return found[0]


def drop(path: str) -> Mutation:
    def fn(root: etree._Element) -> None:
        for el in root.xpath(path, namespaces=NS):
            el.getparent().remove(el)

    return _tree_edit(fn)


def text(path: str, value: str) -> Mutation:
    def fn(root: etree._Element) -> None:
        _one(root, path).text = value

    return _tree_edit(fn)


def attr(path: str, name: str, value: str | None) -> Mutation:
    def fn(root: etree._Element) -> None:
        el = _one(root, path)
        if value is None:
            del el.attrib[name]
        else:
            el.set(name, value)

    return _tree_edit(fn)


def add(path: str, snippet: str) -> Mutation:
    def fn(root: etree._Element) -> None:
        wrapper = etree.fromstring(f"<w {_DECLS}>{snippet}</w>")
        _one(root, path).extend(list(wrapper))

    return _tree_edit(fn)


def sub(old: str, new: str) -> Mutation:
    def apply(xml: str) -> bytes:
        assert old in xml, f"{old!r} is not in the base feed"
        return xml.replace(old, new, 1).encode("utf-8")

    return apply


def chain(*steps: Mutation) -> Mutation:
    def apply(xml: str) -> bytes:
        for step in steps:
            xml = step(xml).decode("utf-8")
        return xml.encode("utf-8")

    return apply


def latin1(xml: str) -> bytes:
    return (
        xml.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"')
        .replace("Dr. Ortho", "Dr. Müller")
        .encode("latin-1")
    )


CH = "/rss/channel"
I1 = "/rss/channel/item[1]"
I2 = "/rss/channel/item[2]"

#: rule id -> a change to BASE that breaks exactly that rule (other rules may fire too).
OFFLINE_CASES: dict[str, Mutation] = {
    "PC101": sub("<title>Knees and Trails</title>", "<title>Knees &nbsp; Trails</title>"),
    "PC102": sub('<rss version="2.0"', '<rss version="0.92"'),
    "PC103": sub("</channel>", "</channel><channel><title>Second</title></channel>"),
    "PC104": latin1,
    "PC105": sub(
        'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"',
        'xmlns:itunes="http://www.itunes.com/DTDs/Podcast-1.0.dtd"',
    ),
    "PC106": sub(f' xmlns:psc="{NS["psc"]}"', ""),
    "PC107": sub(
        "<itunes:episodeType>full</itunes:episodeType>", "<itunes:episodetype>full</itunes:episodetype>"
    ),
    "PC108": text(f"{CH}/itunes:author", "Jane " * 60),
    "PC109": text(f"{CH}/title", "  Knees and Trails\n"),
    "PC110": attr(f"{I1}/enclosure", "url", "http://media.example.com/episodes/knees.mp3"),
    "PC111": attr(f"{I1}/enclosure", "url", "http://media.example.com/episodes/knees.mp3"),
    "PC112": attr(f"{I1}/podcast:transcript", "url", "http://podcast.example.com/transcript.vtt"),
    "PC113": sub("</channel>", "<!-- " + "padding " * 600_000 + "--></channel>"),
    "PC114": sub(
        "<description>First steps off the road.</description>",
        "<description><p>First steps off the road.</p></description>",
    ),
    "PC201": text(f"{CH}/title", ""),
    "PC202": text(f"{CH}/title", "Running | Fitness | Health | Knees | Marathon"),
    "PC203": drop(f"{CH}/description"),
    "PC204": text(f"{CH}/description", "A show. " * 600),
    "PC205": drop(f"{CH}/itunes:image"),
    "PC206": attr(f"{CH}/itunes:image", "href", "https://podcast.example.com/cover.webp"),
    "PC207": text(f"{CH}/language", "english"),
    "PC208": drop(f"{CH}/itunes:category"),
    "PC209": attr(f"{CH}/itunes:category[1]", "text", "Health & fitness"),
    "PC210": attr(f"{CH}/itunes:category[2]/itunes:category", "text", "Skiing"),
    "PC211": attr(f"{CH}/itunes:category[2]", "text", "Sports & Recreation"),
    "PC212": drop(f"{CH}/itunes:explicit"),
    "PC213": text(f"{CH}/itunes:explicit", "no"),
    "PC214": text(f"{CH}/itunes:explicit", "False"),
    "PC215": drop(f"{CH}/itunes:owner"),
    "PC216": drop(f"{CH}/itunes:owner"),
    "PC217": drop(f"{CH}/itunes:author"),
    "PC218": drop(f"{CH}/link"),
    "PC219": drop(f"{CH}/atom:link"),
    "PC220": attr(f"{CH}/atom:link", "type", "text/html"),
    "PC221": text(f"{CH}/itunes:type", "seasonal"),
    "PC222": chain(text(f"{CH}/itunes:type", "serial"), drop(f"{I2}/itunes:episode")),
    "PC223": add(CH, "<itunes:complete>no</itunes:complete>"),
    "PC224": drop(f"{CH}/podcast:guid"),
    "PC225": text(f"{CH}/podcast:guid", str(uuid.UUID(int=1234, version=4))),
    "PC226": text(f"{CH}/podcast:guid", podcast_guid("https://old-host.example.com/show/rss")),
    "PC227": drop(f"{CH}/podcast:locked"),
    "PC228": text(f"{CH}/podcast:locked", "true"),
    "PC229": attr(f"{CH}/podcast:funding", "url", None),
    "PC230": text(f"{CH}/podcast:txt", "v" * 4001),
    "PC231": drop(f"{CH}/podcast:podroll/podcast:remoteItem"),
    "PC232": attr(f"{CH}/podcast:updateFrequency", "rrule", "FREQ=FORTNIGHTLY"),
    "PC238": attr(f"{CH}/podcast:value/podcast:valueRecipient[1]", "address", "jane@example"),
    "PC239": text(f"{CH}/podcast:medium", "Radio"),
    "PC240": text(f"{I1}/podcast:license", ""),
    "PC241": attr(f"{CH}/podcast:location", "geo", "51.45,-2.58"),
    "PC242": attr(f"{CH}/podcast:trailer", "pubdate", "2024-01-01"),
    "PC243": attr(f"{CH}/podcast:socialInteract", "protocol", "myspace"),
    "PC244": attr(f"{CH}/podcast:block", "id", "spotifi"),
    "PC245": attr(f"{CH}/podcast:images", "srcset", "https://podcast.example.com/cover.jpg"),
    "PC246": add(CH, "<podcast:medium>music</podcast:medium>"),
    "PC233": text(f"{CH}/copyright", "Copyright 2024 Jane Runner"),
    "PC234": add(CH, "<itunes:new-feed-url>https://new.example.com/feed.xml</itunes:new-feed-url>"),
    "PC235": drop(f"{CH}/item/enclosure"),
    "PC236": sub(
        "<channel>",
        '<channel><spotify:limit xmlns:spotify="https://www.spotify.com/ns/rss" recentCount="all"/>',
    ),
    "PC237": text(f"{CH}/lastBuildDate", "2024-01-02T09:00:00Z"),
    "PC301": text(f"{I1}/title", ""),
    "PC302": text(f"{I1}/title", "Episode 2: Why your knees hurt"),
    "PC303": drop(f"{I2}/enclosure"),
    "PC304": attr(f"{I1}/enclosure", "type", None),
    "PC305": attr(f"{I2}/enclosure", "url", "https://media.example.com/episodes/knees.mp3"),
    "PC306": attr(f"{I1}/enclosure", "length", "0"),
    "PC307": chain(
        attr(f"{I1}/enclosure", "type", "audio/ogg"),
        attr(f"{I1}/enclosure", "url", "https://media.example.com/episodes/knees.ogg"),
    ),
    "PC308": attr(f"{I2}/enclosure", "type", "audio/mp4"),
    "PC309": attr(f"{I1}/enclosure", "type", "audio/x-m4a"),
    "PC310": attr(f"{I1}/enclosure", "url", "https://media.example.com/episodes/kn%C3%A9es%20ep.mp3"),
    "PC311": add(
        I1, '<enclosure url="https://media.example.com/episodes/knees.m4a" length="10" type="audio/x-m4a"/>'
    ),
    "PC312": drop(f"{I1}/guid"),
    "PC313": text(f"{I2}/guid", "knees-and-trails-knees"),
    "PC314": drop(f"{I1}/pubDate"),
    "PC315": text(f"{I1}/pubDate", "2024-01-02 09:00"),
    "PC316": text(f"{I1}/pubDate", "Sat, 01 Jun 2030 09:00:00 +0000"),
    "PC317": drop(f"{I1}/itunes:duration"),
    "PC318": text(f"{I1}/itunes:duration", "30 minutes"),
    "PC319": text(f"{I2}/description", "Notes. " * 700),
    "PC320": text(f"{I2}/description", "Listen <script>track()</script> now"),
    "PC321": drop(f"{I2}/description"),
    "PC322": text(f"{I1}/itunes:episodeType", "episode"),
    "PC323": text(f"{I1}/itunes:episode", "0"),
    "PC324": add(I2, '<itunes:image href="https://podcast.example.com/trails.gif"/>'),
    "PC325": text(f"{I1}/itunes:explicit", "yes"),
    "PC326": attr(f"{I1}/podcast:transcript", "type", "text/markdown"),
    "PC327": attr(f"{I1}/podcast:transcript", "type", "text/plain"),
    "PC328": attr(f"{I1}/podcast:chapters", "type", "application/json"),
    "PC329": text(f"{I1}/podcast:person", " "),
    "PC330": attr(f"{I1}/podcast:person", "role", "sidekick"),
    "PC331": text(f"{I1}/podcast:episode", "two"),
    "PC332": attr(f"{I1}/podcast:episode", "display", "Episode two, in which knees are discussed"),
    "PC333": attr(f"{I1}/podcast:soundbite", "duration", "5"),
    "PC334": drop(f"{I1}/podcast:alternateEnclosure/podcast:source"),
    "PC335": add(CH, '<psc:chapters version="1.2"><psc:chapter start="0" title="Lost"/></psc:chapters>'),
    "PC336": attr(f"{I1}/psc:chapters/psc:chapter[2]", "start", "3 min"),
}


def test_the_clean_base_feed_has_no_findings() -> None:
    report = run(BASE)
    assert report.findings == ()
    assert report.items == 2
    assert not report.has_errors
    assert report.exit_code == ExitCode.OK


@pytest.mark.parametrize("rule", sorted(OFFLINE_CASES))
def test_each_offline_rule_fires_on_a_feed_that_breaks_it(rule: str) -> None:
    report = run(OFFLINE_CASES[rule](BASE))
    fired = [f for f in report.findings if f.rule == rule]
    assert fired, f"{rule} did not fire; got {sorted(report.rule_ids())}"
    finding = fired[0]
    assert finding.severity is RULES[rule].severity
    assert finding.hint == RULES[rule].hint
    assert finding.message and "\n" not in finding.message


def test_every_rule_has_a_breaking_case() -> None:
    covered = set(OFFLINE_CASES) | set(ONLINE_CASES) | set(CROSS_CASES) | set(CHAIN_CASES)
    assert covered == set(RULES), (
        f"untested: {sorted(set(RULES) - covered)}; unknown: {sorted(covered - set(RULES))}"
    )


def test_the_catalogue_is_well_formed() -> None:
    assert len(RULES) >= 100
    for rid, rule in RULES.items():
        assert rule.id == rid
        assert rid[:2] == "PC" and rid[2:].isdigit() and len(rid) == 5
        assert rid[2] in "12345"
        assert rule.profiles and rule.profiles <= PROFILES
        assert rule.title and rule.hint and "\n" not in rule.hint
    assert {r.id[2] for r in RULES.values() if r.ref.startswith(("D7", "D8"))} == {"4"}


# --- specific behaviour ------------------------------------------------------------------------------------


def test_findings_name_the_item_and_line() -> None:
    report = run(OFFLINE_CASES["PC318"](BASE))
    (finding,) = [f for f in report.findings if f.rule == "PC318"]
    assert finding.where == "item 1 (guid knees-and-trails-knees)"
    assert finding.line is not None
    line = OFFLINE_CASES["PC318"](BASE).decode().splitlines()[finding.line - 1]
    assert "itunes:duration" in line
    assert "'30 minutes'" in finding.message


def test_malformed_xml_reports_the_line_of_each_problem() -> None:
    bad = BASE.replace("<title>Trail running for beginners</title>", "<title>Trails & roads</title>")
    report = run(bad)
    assert report.rule_ids() == {"PC101"}
    (finding,) = report.findings
    assert bad.splitlines()[finding.line - 1].strip().startswith("<title>Trails & roads")
    assert report.items == 0 and report.has_errors


def test_an_undeclared_prefix_is_reported_once_per_prefix() -> None:
    report = run(BASE.replace(f' xmlns:itunes="{NS["itunes"]}"', ""))
    ns_errors = [f for f in report.findings if f.rule == "PC106"]
    assert len(ns_errors) == 1 and "'itunes'" in ns_errors[0].message


def test_an_atom_feed_is_judged_not_refused() -> None:
    atom = '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>x</title></feed>'
    report = run(atom)
    assert report.rule_ids() == {"PC102"}
    assert "Atom" in report.findings[0].message


def test_category_suggestions_fix_the_case() -> None:
    report = run(OFFLINE_CASES["PC209"](BASE))
    (finding,) = [f for f in report.findings if f.rule == "PC209"]
    assert "did you mean 'Health & Fitness'" in finding.message


def test_a_legacy_category_gets_its_replacement_and_no_error() -> None:
    report = run(attr(f"{CH}/itunes:category[1]", "text", "Games & Hobbies")(BASE))
    assert "PC209" not in report.rule_ids()
    (finding,) = [f for f in report.findings if f.rule == "PC211"]
    assert "'Leisure'" in finding.message


def test_legacy_explicit_values_warn_and_say_what_to_write() -> None:
    report = run(text(f"{CH}/itunes:explicit", "yes")(BASE))
    assert report.rule_ids() == {"PC213"}
    assert "(write true)" in report.findings[0].message
    assert not report.has_errors


def test_owner_email_is_an_error_for_spotify_and_a_warning_for_apple() -> None:
    broken = OFFLINE_CASES["PC215"](BASE)
    assert run(broken, profiles={"spotify"}).rule_ids() == {"PC215"}
    assert run(broken, profiles={"apple"}).rule_ids() == {"PC216"}
    assert run(broken, profiles={"apple"}).has_errors is False
    assert run(broken, profiles={"podcastindex"}).findings == ()


def test_profiles_select_rules() -> None:
    broken = chain(drop(f"{CH}/podcast:locked"), drop(f"{CH}/itunes:explicit"))(BASE)
    assert run(broken, profiles={"apple"}).rule_ids() == {"PC212"}
    assert run(broken, profiles={"podcastindex"}).rule_ids() == {"PC227"}
    assert run(broken).rule_ids() == {"PC212", "PC227"}


def test_an_unknown_profile_is_a_clear_error() -> None:
    with pytest.raises(PipelineError, match="unknown profile 'itunes'") as info:
        run(BASE, profiles={"itunes"})
    assert "apple, podcastindex, spotify" in str(info.value)


def test_the_podcast_guid_follows_the_namespace_spec() -> None:
    # the worked example in the Podcasting 2.0 guid.md: a scheme and trailing slashes don't count
    assert podcast_guid("https://mp3s.nashownotes.com/pc20rss.xml") == "917393e3-1b1e-5cef-ace4-edaa54e1f810"
    assert podcast_guid("http://mp3s.nashownotes.com/pc20rss.xml//") == "917393e3-1b1e-5cef-ace4-edaa54e1f810"
    report = run(OFFLINE_CASES["PC226"](BASE))
    (finding,) = [f for f in report.findings if f.rule == "PC226"]
    assert podcast_guid(FEED_URL) in finding.message
    assert finding.severity is Severity.WARNING


def test_a_self_link_that_differs_from_the_fetched_url_warns() -> None:
    report = run(BASE, source="https://elsewhere.example.com/rss")
    assert {f.rule for f in report.findings} == {"PC220"}


def test_a_serial_show_needs_every_episode_numbered() -> None:
    report = run(OFFLINE_CASES["PC222"](BASE))
    assert [f.where for f in report.findings if f.rule == "PC222"] == [
        "item 2 (guid knees-and-trails-trails)"
    ]


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("Wed, 03 Nov 2015 19:18:00 GMT", True),
        ("03 Nov 2015 19:18 +0100", True),
        ("Tue, 02 Jan 2024 09:00:00 EST", True),
        ("Wed, 02 Jan 2024 09:00:00 +0000", True),  # a wrong weekday is tolerated, as apps do
        ("Tue, 03 Nov 2015 19:18:00 GMT", True),
        ("Tue, 02 Jan 2024 7:18 PM +0000", False),  # 12-hour clock
        ("Tue, 02 Jan 2024 25:00:00 +0000", False),
        ("Tue, 30 Feb 2024 09:00:00 +0000", False),
        ("Di, 02 Jan 2024 09:00:00 +0000", False),
        ("2024-01-02T09:00:00Z", False),
    ],
)
def test_rfc2822_dates(value: str, ok: bool) -> None:
    when, problem = parse_rfc2822(value)
    assert (when is not None) is ok
    assert bool(problem) is not ok


def test_an_episode_number_in_the_title_is_only_flagged_when_it_repeats_itunes_episode() -> None:
    assert "PC302" in run(text(f"{I1}/title", "#2 Why knees hurt")(BASE)).rule_ids()
    assert "PC302" in run(text(f"{I1}/title", "S1E2 Why knees hurt")(BASE)).rule_ids()
    assert "PC302" not in run(text(f"{I1}/title", "2 knees, 1 hip")(BASE)).rule_ids()
    assert "PC302" not in run(text(f"{I1}/title", "Episode 12: knees")(BASE)).rule_ids()


@pytest.mark.parametrize(
    ("start", "ok"),
    [
        ("0", True),
        ("125", True),
        ("3:07", True),
        ("8:26.250", True),
        ("1:02:03.5", True),
        ("3:75", False),
        ("00:14:03,000", False),
        ("-1", False),
        ("", False),
    ],
)
def test_psc_chapter_start_is_normal_play_time(start: str, ok: bool) -> None:
    feed = chain(
        attr(f"{I1}/psc:chapters/psc:chapter[1]", "start", "0"),
        attr(f"{I1}/psc:chapters/psc:chapter[2]", "start", start),
    )(BASE)
    assert ("PC336" not in run(feed).rule_ids()) is ok


def test_future_episodes_use_the_clock_passed_in() -> None:
    future = OFFLINE_CASES["PC316"](BASE)
    assert "PC316" in run(future).rule_ids()
    assert "PC316" not in run(future, now=datetime(2031, 1, 1, tzinfo=UTC)).rule_ids()


def test_entities_in_a_doctype_are_never_expanded() -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]>'
        + BASE.split("?>", 1)[1].replace("<title>Knees and Trails</title>", "<title>&c;</title>")
    )
    report = run(bomb)
    titles = [f for f in report.findings if f.rule in ("PC108", "PC201")]
    assert all("aaaa" not in f.message for f in report.findings)
    assert titles  # the unexpanded entity leaves the title empty, which is reported, not expanded


# --- unreadable input ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the feed is empty"),
        (b"  \n\t ", "the feed is empty"),
        (b'{"title": "a json feed"}', "not XML"),
        (b"ID3\x04\x00\x00\x00\x00\x00\x00binary mp3", "not XML"),
        (b"<!DOCTYPE html>\n<html><head><title>Podcast</title></head><body>hi</body></html>", "an HTML page"),
        (b"<html><body><p>Moved</p></body></html>", "an HTML page"),
        (b'<?xml version="1.0"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><body/></html>', "an HTML page"),
    ],
)
def test_input_that_is_not_a_feed_is_unreadable(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "feed.xml"
    path.write_bytes(content)
    with pytest.raises(UnreadableFeed, match=message) as info:
        validate(read_source(str(path)), source=str(path))
    assert info.value.exit_code == ExitCode.UNREADABLE
    assert "\n" not in str(info.value) and str(path) in str(info.value)
    with pytest.raises(UnreadableFeed, match=message):
        validate(content, source="bytes")


def test_a_missing_file_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFeed, match="no such file"):
        read_source(str(tmp_path / "nope.xml"))
    with pytest.raises(UnreadableFeed, match="folder"):
        read_source(str(tmp_path))


def test_a_file_over_the_limit_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "big.xml"
    path.write_text(BASE)
    with pytest.raises(UnreadableFeed, match="over the 100-byte limit"):
        read_source(str(path), max_bytes=100)
    assert read_source(str(path)) == BASE.encode()


def test_other_url_schemes_are_refused() -> None:
    with pytest.raises(UnreadableFeed, match="only http"):
        read_source("ftp://example.com/feed.xml")


# --- a real HTTP server on 127.0.0.1 -------------------------------------------------------------------------


@dataclass
class Served:
    body: bytes
    content_type: str
    status: int = 200


@dataclass
class Servers:
    """Three servers sharing one file table: `good` (HEAD + Range), `norange` (neither), `liar` (bad headers)."""

    files: dict[str, Served] = field(default_factory=dict)
    good: str = ""
    norange: str = ""
    liar: str = ""
    closed: str = ""

    def put(self, path: str, body: bytes, content_type: str, status: int = 200) -> str:
        self.files[path] = Served(body, content_type, status)
        return path


class _Handler(BaseHTTPRequestHandler):
    files: dict[str, Served]
    mode = "good"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _send(self, status: int, headers: dict[str, str], body: bytes, *, head: bool) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if not head and body:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(body)

    def do_HEAD(self) -> None:
        if self.mode == "norange":
            self._send(405, {"Content-Length": "0", "Allow": "GET"}, b"", head=True)
        else:
            self._serve(head=True)

    def do_GET(self) -> None:
        if self.path == "/stream":  # a feed that never ends: the client has to hang up
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Connection", "close")
            self.end_headers()
            chunk = b"<item><title>again and again</title></item>\n" * 1000
            try:
                self.wfile.write(b'<?xml version="1.0"?><rss version="2.0"><channel>')
                for _ in range(1_000_000):
                    self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True
            return
        if self.path == "/slow":  # promises 100 bytes, then sends nothing
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            time.sleep(2)
            self.close_connection = True
            return
        self._serve(head=False)

    def _serve(self, *, head: bool) -> None:
        if self.path.startswith("/redirect?to="):
            self._send(302, {"Location": self.path.split("=", 1)[1], "Content-Length": "0"}, b"", head=head)
            return
        item = self.files.get(self.path.split("?", 1)[0])
        if item is None or item.status != 200:
            status = 404 if item is None else item.status
            self._send(status, {"Content-Type": "text/plain", "Content-Length": "5"}, b"error", head=head)
            return
        body = item.body
        if self.mode == "liar":  # wrong type always; HEAD also claims a wrong size
            size = len(body) + 1000 if head else len(body)
            self._send(
                200,
                {"Content-Type": "text/html; charset=utf-8", "Content-Length": str(size)},
                body,
                head=head,
            )
            return
        rng = self.headers.get("Range", "")
        if self.mode == "good" and rng.startswith("bytes="):
            first, _, last = rng[6:].partition("-")
            start, end = int(first), min(int(last) if last else len(body) - 1, len(body) - 1)
            part = body[start : end + 1]
            self._send(
                206,
                {
                    "Content-Type": item.content_type,
                    "Content-Length": str(len(part)),
                    "Content-Range": f"bytes {start}-{end}/{len(body)}",
                },
                part,
                head=head,
            )
            return
        self._send(
            200, {"Content-Type": item.content_type, "Content-Length": str(len(body))}, body, head=head
        )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    """good / norange / liar HTTP servers on 127.0.0.1 over one file table, plus a closed port."""
    out = Servers()
    running = []
    for mode in ("good", "norange", "liar"):
        handler = type(f"{mode}_handler", (_Handler,), {"files": out.files, "mode": mode})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        running.append((server, thread))
        setattr(out, mode, f"http://127.0.0.1:{server.server_address[1]}")
    out.closed = f"http://127.0.0.1:{_free_port()}/feed.xml"
    yield out
    for server, thread in running:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_read_source_fetches_a_feed_over_http(servers: Servers) -> None:
    servers.put("/feed.xml", BASE.encode(), "application/rss+xml")
    assert read_source(servers.good + "/feed.xml") == BASE.encode()


@pytest.mark.parametrize(
    ("path", "message"),
    [("/nowhere.xml", "HTTP 404"), ("/broken.xml", "HTTP 503"), ("/page.html", "an HTML page")],
)
def test_unreadable_urls(servers: Servers, path: str, message: str) -> None:
    servers.put("/broken.xml", b"", "text/plain", status=503)
    servers.put("/page.html", b"<!doctype html><html><body>Our podcast</body></html>", "text/html")
    with pytest.raises(UnreadableFeed, match=message) as info:
        read_source(servers.good + path)
    assert "\n" not in str(info.value)


def test_redirects_are_followed_but_only_to_http(servers: Servers) -> None:
    servers.put("/feed.xml", BASE.encode(), "application/rss+xml")
    assert read_source(f"{servers.good}/redirect?to=/feed.xml") == BASE.encode()
    with pytest.raises(UnreadableFeed, match="HTTP 302"):
        read_source(f"{servers.good}/redirect?to=file:///etc/passwd")


def test_a_refused_connection_is_unreadable(servers: Servers) -> None:
    with pytest.raises(UnreadableFeed, match="connection refused"):
        read_source(servers.closed)


def test_an_endless_response_is_cut_off(servers: Servers) -> None:
    with pytest.raises(UnreadableFeed, match="larger than 1048576 bytes; stopped reading"):
        read_source(servers.good + "/stream", max_bytes=2**20)


def test_a_stalled_response_times_out(servers: Servers) -> None:
    with pytest.raises(UnreadableFeed, match="timed out"):
        read_source(servers.good + "/slow", timeout=0.5)


# --- online checks ----------------------------------------------------------------------------------------------


def image_bytes(
    size: tuple[int, int] = (1400, 1400),
    mode: str = "RGB",
    fmt: str = "JPEG",
    dpi: int = 72,
    noise: bool = False,
) -> bytes:
    if noise:
        rng = random.Random(7)
        img = Image.frombytes(
            mode, size, bytes(rng.getrandbits(8) for _ in range(size[0] * size[1] * len(mode)))
        )
    else:
        img = Image.new(
            mode,
            size,
            {"RGB": (200, 80, 40), "RGBA": (200, 80, 40, 128), "CMYK": (0, 50, 80, 0), "L": 128}[mode],
        )
    out = io.BytesIO()
    img.save(out, fmt, dpi=(dpi, dpi), quality=95)
    return out.getvalue()


AUDIO = b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(random.Random(1).getrandbits(8) for _ in range(20_000))
CHAPTERS_JSON = json.dumps(
    {
        "version": "1.2.0",
        "chapters": [{"startTime": 0, "title": "Intro"}, {"startTime": 190.5, "title": "Shoes"}],
    }
).encode()

ONLINE_TEMPLATE = f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" {_DECLS}>
<channel>
  <title>Online show</title><link>https://podcast.example.com/</link><description>Checks</description>
  <language>en</language><itunes:image href="{{art}}"/>
  <item>
    <title>One</title><guid>one</guid><pubDate>Tue, 02 Jan 2024 09:00:00 +0000</pubDate>
    <enclosure url="{{enclosure}}" length="{{length}}" type="{{type}}"/>
    <itunes:image href="{{episode_art}}"/>
    <podcast:transcript url="{{transcript}}" type="text/vtt"/>
    <podcast:chapters url="{{chapters}}" type="application/json+chapters"/>
  </item>
</channel>
</rss>
"""


def online_feed(servers: Servers, **overrides: str) -> bytes:
    servers.put("/cover.jpg", image_bytes(), "image/jpeg")
    servers.put("/ep/cover.png", image_bytes(fmt="PNG"), "image/png")
    servers.put("/ep/one.mp3", AUDIO, "audio/mpeg")
    servers.put("/ep/one.vtt", b"WEBVTT\n\n00:00.000 --> 00:01.000\nHi\n", "text/vtt")
    servers.put("/ep/chapters.json", CHAPTERS_JSON, "application/json+chapters")
    values = {
        "art": servers.good + "/cover.jpg",
        "enclosure": servers.good + "/ep/one.mp3",
        "length": str(len(AUDIO)),
        "type": "audio/mpeg",
        "episode_art": servers.good + "/ep/cover.png",
        "transcript": servers.good + "/ep/one.vtt",
        "chapters": servers.good + "/ep/chapters.json",
    }
    values.update(overrides)
    return ONLINE_TEMPLATE.format(**values).encode()


def online_ids(data: bytes) -> set[str]:
    report = run(data, online=True, timeout=5)
    return {f.rule for f in report.findings if f.rule.startswith("PC4")}


def test_online_clean_feed_passes(servers: Servers) -> None:
    reporter = ListReporter()
    report = run(online_feed(servers), online=True, timeout=5, reporter=reporter)
    assert {f.rule for f in report.findings if f.rule.startswith("PC4")} == set()
    assert reporter.tasks == [("checking media URLs", 5, "url")]


def _put_then(
    path: str, body: bytes, ctype: str, key: str, server: str = "good"
) -> Callable[[Servers], dict]:
    def setup(s: Servers) -> dict[str, str]:
        s.put(path, body, ctype)
        return {key: getattr(s, server) + path}

    return setup


#: rule id -> how to break it online: put files on the servers, return template overrides.
ONLINE_CASES: dict[str, Callable[[Servers], dict[str, str]]] = {
    "PC401": lambda s: {"enclosure": s.good + "/ep/missing.mp3"},
    "PC402": lambda s: {"enclosure": s.norange + "/ep/one.mp3"},
    "PC403": lambda s: {"enclosure": s.norange + "/ep/one.mp3"},
    "PC404": lambda s: {"length": str(len(AUDIO) + 1)},
    "PC405": lambda s: {"enclosure": s.liar + "/ep/one.mp3"},
    "PC406": _put_then("/art/webp-typed.jpg", image_bytes(), "image/webp", "art"),
    "PC407": _put_then("/art/wide.jpg", image_bytes((1600, 1400)), "image/jpeg", "art"),
    "PC408": _put_then("/art/small.jpg", image_bytes((1000, 1000)), "image/jpeg", "art"),
    "PC409": _put_then("/art/cmyk.jpg", image_bytes(mode="CMYK"), "image/jpeg", "art"),
    "PC410": _put_then("/art/really-gif.jpg", image_bytes(fmt="GIF"), "image/jpeg", "art"),
    "PC411": _put_then("/art/print.jpg", image_bytes(dpi=300), "image/jpeg", "art"),
    "PC412": _put_then("/art/heavy.jpg", image_bytes(noise=True), "image/jpeg", "art"),
    "PC413": _put_then("/art/broken.jpg", b"\xff\xd8\xff\xe0 this is not really a jpeg", "image/jpeg", "art"),
    "PC414": _put_then("/ep/alpha.png", image_bytes(mode="RGBA", fmt="PNG"), "image/png", "episode_art"),
    "PC415": _put_then("/ep/plain.vtt", b"WEBVTT\n", "text/plain", "transcript"),
    "PC416": _put_then("/ep/html-chapters.json", CHAPTERS_JSON, "text/html", "chapters"),
    "PC417": _put_then(
        "/ep/bad-chapters.json",
        b'{"version": "1.2.0", "chapters": [{"startTime": 9}, {"startTime": 3}]}',
        "application/json+chapters",
        "chapters",
    ),
}


@pytest.mark.parametrize("rule", sorted(ONLINE_CASES))
def test_each_online_rule_fires_against_a_real_server(servers: Servers, rule: str) -> None:
    feed = online_feed(servers, **ONLINE_CASES[rule](servers))
    report = run(feed, online=True, timeout=5)
    fired = [f for f in report.findings if f.rule == rule]
    assert fired, f"{rule} did not fire; got {sorted(report.rule_ids())}"
    assert fired[0].severity is RULES[rule].severity


def test_online_checks_are_not_run_offline(servers: Servers) -> None:
    feed = online_feed(servers, enclosure=servers.good + "/ep/missing.mp3")
    assert not any(f.rule.startswith("PC4") for f in run(feed).findings)


def test_a_server_without_range_support_is_named(servers: Servers) -> None:
    ids = online_ids(online_feed(servers, enclosure=servers.norange + "/ep/one.mp3"))
    assert ids == {"PC402", "PC403"}


def test_a_lying_server_is_caught_on_size_and_type(servers: Servers) -> None:
    report = run(online_feed(servers, enclosure=servers.liar + "/ep/one.mp3"), online=True, timeout=5)
    by_rule = {f.rule: f.message for f in report.findings if f.rule.startswith("PC4")}
    assert set(by_rule) == {"PC403", "PC404", "PC405"}
    assert f"Content-Length {len(AUDIO) + 1000}" in by_rule["PC404"]
    assert "text/html" in by_rule["PC405"]


def test_a_private_or_unreachable_url_is_pc401(servers: Servers) -> None:
    servers.put("/private.mp3", AUDIO, "audio/mpeg", status=401)
    report = run(online_feed(servers, enclosure=servers.good + "/private.mp3"), online=True, timeout=5)
    assert [f.message for f in report.findings if f.rule == "PC401"] == [
        f"{servers.good}/private.mp3 needs authentication (HTTP 401)"
    ]
    closed = servers.closed.rsplit("/", 1)[0] + "/one.mp3"
    report = run(online_feed(servers, enclosure=closed), online=True, timeout=5)
    assert [f.message for f in report.findings if f.rule == "PC401"] == [
        f"{closed} cannot be fetched: connection refused"
    ]


def test_artwork_problems_are_specific(servers: Servers) -> None:
    servers.put("/art/rgba.png", image_bytes(mode="RGBA", fmt="PNG", size=(1000, 1200)), "image/png")
    report = run(online_feed(servers, art=servers.good + "/art/rgba.png"), online=True, timeout=5)
    messages = {f.rule: f.message for f in report.findings if f.rule.startswith("PC4")}
    assert messages == {
        "PC407": "artwork is 1000×1200, not square",
        "PC408": "artwork is 1000×1200 px (needs 1400–3000)",
        "PC409": "artwork has an alpha channel",
    }


def test_shared_episode_artwork_is_checked_once(servers: Servers) -> None:
    servers.put("/ep/tiny.jpg", image_bytes((600, 600)), "image/jpeg")
    feed = online_feed(servers, episode_art=servers.good + "/ep/tiny.jpg").decode()
    item = feed[feed.index("<item>") : feed.index("</item>") + 7]
    second = item.replace("<guid>one</guid>", "<guid>two</guid>").replace("one.mp3", "two.mp3")
    servers.put("/ep/two.mp3", AUDIO, "audio/mpeg")
    report = run(feed.replace("</item>", "</item>" + second, 1), online=True, timeout=5)
    art = [f for f in report.findings if f.rule == "PC414"]
    assert len(art) == 1 and art[0].message.endswith("(used 2 times)")


# --- cross-build -----------------------------------------------------------------------------------------------

#: rule id -> (previous feed, current feed)
CROSS_CASES: dict[str, tuple[bytes, bytes]] = {
    "PC501": (BASE.encode(), drop(I2)(BASE)),
    "PC502": (BASE.encode(), text(f"{I2}/guid", "https://podcast.example.com/?p=12")(BASE)),
    "PC503": (BASE.encode(), text(f"{I2}/pubDate", "Mon, 01 Jan 2024 10:00:00 GMT")(BASE)),
    "PC504": (
        BASE.encode(),
        text(f"{CH}/podcast:guid", podcast_guid("https://new.example.com/feed.xml"))(BASE),
    ),
    "PC505": (BASE.encode(), attr(f"{I2}/enclosure", "url", "https://cdn.example.com/trails.m4a")(BASE)),
    "PC506": (BASE.encode(), attr(f"{I2}/enclosure", "length", "3100001")(BASE)),
    "PC507": (BASE.encode(), attr(f"{CH}/atom:link", "href", "https://new.example.com/feed.xml")(BASE)),
}


def test_an_unchanged_rebuild_passes_the_cross_build_rules() -> None:
    assert run(BASE, previous=BASE.encode()).findings == ()


@pytest.mark.parametrize("rule", sorted(CROSS_CASES))
def test_each_cross_build_rule_fires(rule: str) -> None:
    previous, current = CROSS_CASES[rule]
    report = run(current, previous=previous)
    assert rule in report.rule_ids(), sorted(report.rule_ids())
    assert not [f for f in report.findings if f.rule.startswith("PC5") and f.rule != rule]


def test_a_reformatted_pubdate_of_the_same_instant_is_not_a_change() -> None:
    same_instant = text(f"{I2}/pubDate", "Mon, 01 Jan 2024 10:00:00 +0100")(BASE)
    assert run(same_instant, previous=BASE.encode()).findings == ()


def test_new_media_at_a_new_url_is_fine() -> None:
    moved = chain(
        attr(f"{I2}/enclosure", "url", "https://media.example.com/episodes/trails-v2.m4a"),
        attr(f"{I2}/enclosure", "length", "3100500"),
    )(BASE)
    assert run(moved, previous=BASE.encode()).findings == ()


def test_a_moved_feed_with_new_feed_url_passes_pc507() -> None:
    new = "https://new.example.com/feed.xml"
    moved = chain(
        attr(f"{CH}/atom:link", "href", new), add(CH, f"<itunes:new-feed-url>{new}</itunes:new-feed-url>")
    )(BASE)
    ids = run(moved, previous=BASE.encode()).rule_ids()
    assert "PC507" not in ids and "PC234" in ids
    assert "PC504" not in ids  # the podcast:guid stays with the show when it moves


def test_a_vanished_episode_is_named() -> None:
    report = run(CROSS_CASES["PC501"][1], previous=BASE.encode())
    (finding,) = report.findings
    assert "'Trail running for beginners'" in finding.message
    assert finding.where == "previous item (guid knees-and-trails-trails)"


def test_an_unreadable_previous_feed_is_refused() -> None:
    with pytest.raises(UnreadableFeed, match="previous feed"):
        run(BASE, previous=b"<rss><channel>")


# --- output formats (worded by the CLI from the typed Report) ------------------------------------------------------------------------------------------------


def _two_problem_report() -> Report:
    return run(
        chain(text(f"{CH}/itunes:explicit", "yes"), drop(f"{I1}/guid"))(BASE), source="public/feed.xml"
    )


def test_text_format() -> None:
    lines = validate_lines(_two_problem_report())
    assert (
        lines[0].startswith("public/feed.xml:")
        and " warning PC213 channel: itunes:explicit is 'yes'" in lines[0]
    )
    assert lines[1] == f"    fix: {RULES['PC213'].hint}"
    assert " error PC312 item 1 ('Why your knees hurt when you run'): the item has no guid" in lines[2]
    assert lines[-1] == "public/feed.xml: 1 error, 1 warning, 0 info in 2 episodes"
    assert validate_lines(run(BASE)) == ["feed.xml: 0 errors, 0 warnings, 0 info in 2 episodes"]


def test_json_format_is_stable_and_complete() -> None:
    report = _two_problem_report()
    doc = validate_json(report)
    assert doc["source"] == "public/feed.xml" and doc["items"] == 2 and doc["ok"] is False
    assert doc["counts"] == {"error": 1, "warning": 1, "info": 0}
    assert [f["rule"] for f in doc["findings"]] == ["PC213", "PC312"]
    assert set(doc["findings"][0]) == {"rule", "severity", "title", "message", "where", "line", "hint"}
    assert json.dumps(doc) == json.dumps(validate_json(_two_problem_report()))
    assert list(doc) == sorted(doc) and all(list(f) == sorted(f) for f in doc["findings"])


def test_github_format_escapes_and_annotates() -> None:
    report = run(text(f"{I1}/itunes:duration", "30 min, roughly: 100%")(BASE), source="public/feed.xml")
    (line, summary) = validate_github(report)
    assert summary == "public/feed.xml: 0 errors, 1 warning, 0 info in 2 episodes"
    assert line.startswith("::warning file=public/feed.xml,line=")
    assert ",title=PC318::" in line
    assert "roughly%3A" not in line and "100%25" in line  # data escapes only %, CR, LF
    url_report = run(BASE.replace("<itunes:explicit>false", "<itunes:explicit>clean", 1), source=FEED_URL)
    first = validate_github(url_report)[0]
    assert first.startswith("::warning title=PC213::")  # no file= for a URL
    errors = validate_github(_two_problem_report())
    assert errors[1].startswith("::error file=public/feed.xml,line=")


def test_the_rule_table_lists_rules_for_a_profile() -> None:
    table = rules_lines(("spotify",))
    assert table[0].split() == ["rule", "severity", "profiles", "title"]
    ids = [line.split()[0] for line in table[1:]]
    assert "PC215" in ids and "PC216" not in ids and "PC224" not in ids
    assert len(rules_lines(())) == len(RULES) + 1


def test_report_counts_and_exit_code() -> None:
    report = _two_problem_report()
    assert report.counts == {"error": 1, "warning": 1, "info": 0}
    assert report.has_errors and report.exit_code == ExitCode.ERROR


# --- foreign feeds, as other hosts write them --------------------------------------------------------------------


#: fixture -> every rule it must break, exactly (these feeds are shaped like each host writes them).
FOREIGN: dict[str, set[str]] = {
    # yes/no/clean explicit, a retired category, audio/mp4, an http website link, "© 2019" copyright
    "libsyn_like.xml": {"PC110", "PC111", "PC211", "PC213", "PC224", "PC227", "PC233", "PC308", "PC325"},
    # .jpeg artwork, "Ep. 14 - …" titles, > 4000-byte notes, a tracking URL with an encoded URL as file name
    "anchor_like.xml": {"PC206", "PC224", "PC227", "PC302", "PC310", "PC319", "PC324"},
    # a plugin appended a cookie banner after </rss>
    "powerpress_like.xml": {"PC101"},
    # chapters in the channel, a comma in a chapter time, an http avatar, non-taxonomy roles, a .txt transcript
    "podlove_like.xml": {"PC110", "PC111", "PC112", "PC227", "PC326", "PC330", "PC335", "PC336"},
}


@pytest.mark.parametrize("name", sorted(FOREIGN))
def test_foreign_feeds(name: str) -> None:
    path = FIXTURES / name
    report = validate(read_source(str(path)), source=str(path), now=NOW)
    assert report.rule_ids() == FOREIGN[name]


def test_html_injected_after_the_feed_is_found_at_its_line() -> None:
    path = FIXTURES / "powerpress_like.xml"
    report = validate(read_source(str(path)), source=str(path), now=NOW)
    (finding,) = report.findings
    assert finding.message.startswith("Extra content at the end of the document")
    assert path.read_text().splitlines()[finding.line - 1].startswith('<div id="cookie-banner"')


def test_foreign_feeds_keep_their_episode_counts_and_profiles() -> None:
    libsyn = FIXTURES / "libsyn_like.xml"
    report = validate(read_source(str(libsyn)), source=str(libsyn), now=NOW, profiles={"spotify"})
    assert report.items == 3
    assert report.rule_ids() == {"PC110", "PC111"}


# --- RFC 5005 archive chains (PC508-PC510): validate follows prev-archive links to files beside the feed ------

ARCHIVE_URL = "https://podcast.example.com/archive/"


def _paged_base(tmp: Path, *, page_edit: Callable[[str], str] = lambda x: x, write_page: bool = True) -> Path:
    """BASE as feed.xml with its older item moved into one archive page beside it."""
    page_url = ARCHIVE_URL + "a1.xml"
    links = (
        f'<atom:link rel="first" type="application/rss+xml" href="{page_url}"/>'
        f'<atom:link rel="prev-archive" type="application/rss+xml" href="{page_url}"/>'
    )
    fh = 'xmlns:fh="http://purl.org/syndication/history/1.0"'
    main = drop(I2)(BASE).decode().replace("<podcast:guid>", links + "<podcast:guid>", 1)
    page = drop(I1)(BASE).decode().replace("<rss ", f"<rss {fh} ", 1)
    page = page.replace(
        f'<atom:link href="{FEED_URL}" rel="self" type="application/rss+xml"/>',
        f'<atom:link href="{page_url}" rel="self" type="application/rss+xml"/>'
        f'<atom:link rel="current" href="{FEED_URL}"/><atom:link rel="first" href="{page_url}"/><fh:archive/>',
        1,
    )
    (tmp / "archive").mkdir()
    if write_page:
        (tmp / "archive/a1.xml").write_text(page_edit(page))
    (tmp / "feed.xml").write_text(main)
    return tmp / "feed.xml"


#: rule id -> how to break a one-page chain (applied when writing the archive page)
CHAIN_CASES: dict[str, dict[str, object]] = {
    "PC508": {"write_page": False},
    "PC509": {"page_edit": lambda page: page.replace("<fh:archive/>", "")},
    "PC510": {"page_edit": lambda page: page.replace("knees-and-trails-trails", "knees-and-trails-knees")},
}


def test_a_whole_archive_chain_is_clean(tmp_path: Path) -> None:
    path = _paged_base(tmp_path)
    report = validate(path.read_bytes(), source=str(path), now=NOW)
    assert report.findings == ()
    assert report.items == 2


@pytest.mark.parametrize("rule", sorted(CHAIN_CASES))
def test_each_archive_chain_rule_fires(tmp_path: Path, rule: str) -> None:
    path = _paged_base(tmp_path, **CHAIN_CASES[rule])  # type: ignore[arg-type]
    report = validate(path.read_bytes(), source=str(path), now=NOW)
    fired = [f for f in report.findings if f.rule == rule]
    assert fired, sorted(report.rule_ids())
    assert fired[0].severity is RULES[rule].severity and "\n" not in fired[0].message


def test_archive_pages_get_the_item_rules_too(tmp_path: Path) -> None:
    path = _paged_base(tmp_path, page_edit=lambda page: page.replace("00:25:10", "25 minutes"))
    report = validate(path.read_bytes(), source=str(path), now=NOW)
    (finding,) = report.findings
    assert finding.rule == "PC318"
    assert finding.where.startswith(ARCHIVE_URL + "a1.xml line ")


def test_alternate_enclosures_need_an_sri_integrity_and_one_default() -> None:
    alt = (
        '<podcast:alternateEnclosure type="audio/opus" length="1000" bitrate="32000" default="{d}">'
        '<podcast:source uri="https://media.example.com/episodes/knees.opus"/>'
        '<podcast:integrity type="sri" value="{v}"/></podcast:alternateEnclosure>'
    )
    good = alt.format(d="true", v="sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")
    assert "PC334" not in run(add(I2, good)(BASE)).rule_ids()
    messages = [
        f.message for f in run(add(I2, alt.format(d="yes", v="md5:abc"))(BASE)).findings if f.rule == "PC334"
    ]
    assert messages == [
        "podcast:alternateEnclosure has default 'yes', integrity 'md5:abc' that is not sha256-BASE64"
    ]
    twice = run(add(I2, good + good)(BASE))
    assert any('say default="true"' in f.message for f in twice.findings if f.rule == "PC334")
