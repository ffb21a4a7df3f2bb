"""Property tests of the reference grammar (hypothesis).

Guards the invariants every consumer relies on: printing and re-parsing is lossless,
normalisation is idempotent, the familiar form means the same image, and no input — valid,
mutated into invalid, or arbitrary — makes ``parse`` raise anything but
``InvalidReferenceError``. The ``slow`` variant runs well over 100,000 generated inputs in CI;
the quick variant runs on every ``make test-fast``.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airlock.images.reference import DIGEST_LENGTHS, InvalidReferenceError, parse

LOWER = "abcdefghijklmnopqrstuvwxyz0123456789"

# An oracle written independently of the parser: distribution's anchored reference regexp
# (regexp.go) plus the checks that live outside that regexp (normalize.go and digest rules).
_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_LABEL = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = rf"(?:{_LABEL}(?:\.{_LABEL})*|\[[a-fA-F0-9:]+\])"
_DOMAIN = rf"{_HOST}(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
ORACLE = re.compile(
    rf"(?P<name>(?:(?P<domain>{_DOMAIN})/)?{_COMPONENT}(?:/{_COMPONENT})*)"
    rf"(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?",
    re.ASCII,
)


def oracle_accepts(text: str) -> bool:
    match = ORACLE.fullmatch(text)
    if not match or re.fullmatch(r"[a-f0-9]{64}", text):
        return False
    name = match.group("name")
    first, slash, rest = name.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost" or first != first.lower()):
        if not re.fullmatch(_DOMAIN, first, re.ASCII):
            return False
        port = first.rsplit("]", 1)[-1].partition(":")[2]
        if port and not 1 <= int(port) <= 65535:
            return False
        path = rest
    else:
        path = name if slash else "library/" + name
    if len(path) > 255 or not re.fullmatch(rf"{_COMPONENT}(?:/{_COMPONENT})*", path, re.ASCII):
        return False
    digest = match.group("digest")
    if digest:
        algorithm, _, encoded = digest.partition(":")
        if DIGEST_LENGTHS.get(algorithm) != len(encoded) or encoded != encoded.lower():
            return False
    return True


alnum_runs = st.text(LOWER, min_size=1, max_size=6)
separators = st.sampled_from([".", "_", "__", "-", "--", "---"])
components = st.builds(
    lambda first, rest: first + "".join(sep + run for sep, run in rest),
    alnum_runs,
    st.lists(st.tuples(separators, alnum_runs), max_size=2),
)
paths = st.lists(components, min_size=1, max_size=4).map("/".join).filter(lambda p: len(p) <= 240)
LABEL_CHARS = LOWER + "ABCXYZ"
labels = st.one_of(
    st.text(LABEL_CHARS, min_size=1, max_size=1),
    st.builds(
        lambda a, mid, b: a + mid + b,
        st.text(LABEL_CHARS, min_size=1, max_size=1),
        st.text(LABEL_CHARS + "-", max_size=8),
        st.text(LABEL_CHARS, min_size=1, max_size=1),
    ),
)
dns_hosts = st.builds(lambda a, b: f"{a}.{b}", labels, labels)
ipv4 = st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t)))
ipv6 = st.sampled_from(["[::1]", "[2001:db8::1]", "[fe80::a:b]", "[0:0:0:0:0:0:0:1]"])
hosts = st.one_of(dns_hosts, ipv4, ipv6, st.just("localhost"))
ports = st.one_of(st.just(""), st.integers(1, 65535).map(lambda p: f":{p}"))
domains = st.one_of(st.none(), st.builds(lambda h, p: h + p, hosts, ports))
TAG_START = LOWER + "ABCXYZ_"
tags = st.one_of(
    st.none(),
    st.builds(
        lambda a, b: a + b, st.text(TAG_START, min_size=1, max_size=1), st.text(TAG_START + ".-", max_size=20)
    ),
)
digests = st.one_of(
    st.none(),
    st.sampled_from(sorted(DIGEST_LENGTHS.items())).flatmap(
        lambda item: st.text("0123456789abcdef", min_size=item[1], max_size=item[1]).map(
            lambda hexits, algorithm=item[0]: f"{algorithm}:{hexits}"
        )
    ),
)


@st.composite
def reference_texts(draw: st.DrawFn) -> str:
    domain = draw(domains)
    path = draw(paths)
    if domain is None and "." in path.split("/")[0]:
        domain = "docker.io"  # Docker would read that first component as a registry
    tag = draw(tags)
    digest = draw(digests)
    text = f"{domain}/{path}" if domain else path
    if tag:
        text += f":{tag}"
    if digest:
        text += f"@{digest}"
    return text


@st.composite
def invalid_texts(draw: st.DrawFn) -> str:
    """A valid reference broken by one mutation that no rule can accept."""
    text = draw(reference_texts())
    ref = parse(text)
    mutation = draw(st.sampled_from(range(9)))
    name = f"{ref.domain}/{ref.path}"
    if mutation == 0:  # uppercase inside the repository path
        index = draw(st.integers(0, len(ref.path) - 1))
        return f"{ref.domain}/{ref.path[:index]}X{ref.path[index:]}"
    if mutation == 1:  # digest of the wrong length
        algorithm = draw(st.sampled_from(sorted(DIGEST_LENGTHS)))
        length = draw(st.integers(1, 140).filter(lambda n: n != DIGEST_LENGTHS[algorithm]))
        return f"{name}@{algorithm}:{'a' * length}"
    if mutation == 2:  # tag starting with '.' or '-'
        return f"{name}:{draw(st.sampled_from('.-'))}{ref.tag or 'x'}"
    if mutation == 3:  # tag too long
        return f"{name}:{'t' * draw(st.integers(129, 300))}"
    if mutation == 4:  # empty path component
        return f"{ref.domain}/{ref.path}//x"
    if mutation == 5:  # whitespace anywhere
        index = draw(st.integers(0, len(text)))
        return text[:index] + draw(st.sampled_from([" ", "\t", "\n"])) + text[index:]
    if mutation == 6:  # port out of range
        return f"localhost:{draw(st.integers(65536, 10**7))}/{ref.path}"
    if mutation == 7:  # unsupported digest algorithm
        algorithm = draw(st.sampled_from(["md5", "sha1", "sha224", "blake2b", "sha3"]))
        return f"{name}@{algorithm}:{'a' * 64}"
    # a character outside the grammar inside the path
    bad = draw(st.sampled_from("!#$%&*+,;<=>?[]^`{|}~\"'\\"))
    index = draw(st.integers(0, len(ref.path)))
    return f"{ref.domain}/{ref.path[:index]}{bad}{ref.path[index:]}"


arbitrary = st.text(alphabet=LOWER + "ABZ.:/@_-[]+ " + "é", max_size=60)


def check_round_trip(text: str) -> None:
    ref = parse(text)
    canonical = str(ref)
    assert parse(canonical) == ref
    assert str(parse(canonical)) == canonical  # normalisation is idempotent
    assert parse(ref.familiar()) == ref
    assert ref.familiar() == parse(ref.familiar()).familiar()
    assert oracle_accepts(text)


def check_invalid(text: str) -> None:
    with pytest.raises(InvalidReferenceError):
        parse(text)
    assert not oracle_accepts(text)


def check_arbitrary(text: str) -> None:
    try:
        ref = parse(text)
    except InvalidReferenceError:
        assert not oracle_accepts(text), text
        return
    assert oracle_accepts(text), text
    assert parse(str(ref)) == ref


QUICK = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# 3 x 35,000 = 105,000 generated inputs in the slow (CI) run.
BULK = settings(
    max_examples=35_000, deadline=None, suppress_health_check=list(HealthCheck), derandomize=False
)


@QUICK
@given(reference_texts())
def test_round_trip(text: str) -> None:
    check_round_trip(text)


@QUICK
@given(invalid_texts())
def test_invalid_always_raises_invalid_reference_error(text: str) -> None:
    check_invalid(text)


@QUICK
@given(arbitrary)
def test_arbitrary_text_agrees_with_the_oracle(text: str) -> None:
    check_arbitrary(text)


COUNTS: dict[str, int] = {"valid": 0, "invalid": 0, "arbitrary": 0}


@pytest.mark.slow
@BULK
@given(reference_texts())
def test_bulk_round_trip(text: str) -> None:
    COUNTS["valid"] += 1
    check_round_trip(text)


@pytest.mark.slow
@BULK
@given(invalid_texts())
def test_bulk_invalid(text: str) -> None:
    COUNTS["invalid"] += 1
    check_invalid(text)


@pytest.mark.slow
@BULK
@given(arbitrary)
def test_bulk_arbitrary(text: str) -> None:
    COUNTS["arbitrary"] += 1
    check_arbitrary(text)


@pytest.mark.slow
def test_bulk_ran_over_one_hundred_thousand_inputs() -> None:
    """Runs after the three bulk properties in file order; prints what they generated."""
    total = sum(COUNTS.values())
    print(f"\nreference property inputs generated: {COUNTS} total={total}")
    assert total >= 100_000, COUNTS
