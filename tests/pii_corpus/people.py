"""The pieces the labelled PII corpus is built from: people, phone numbers
in their written formats, card numbers, IBANs, addresses and the
look-alikes that are not personal data. Every function takes the generator's
`random.Random`, so the same seed gives the same corpus."""

from __future__ import annotations

import random
import string
from dataclasses import dataclass

FIRST = (
    "Felix Amara Ingrid Tomasz Priya Kwame Leila Mateo Sienna Rohan Astrid Dmitri "
    "Yasmin Callum Beatriz Kenji Oluwaseun Margot Anouk Ciaran Valentina Henrik "
    "Zainab Lorcan Chiara Emeka Solveig Ignacio Thandiwe Maximilian Noor Aurelien "
    "Svetlana Padraig Lucinda Rafferty Xiomara Benedikt Giulia Desmond"
).split()
LAST = (
    "Becker Okafor Lindqvist Nowak Sharma Mensah Haddad Fernandez Whitlock Iyer "
    "Halvorsen Petrov Rahimi MacLeod Carvalho Tanaka Adeyemi Fontaine Jansen "
    "Gallagher Moretti Sorensen Abubakar Brennan Esposito Okonkwo Aalberg "
    "Villanueva Ndlovu Hoffmann Siddiqui Marchand Volkova Donnelly Ashworth "
    "Kowalczyk Quintero Brandt Ferraro Achterberg"
).split()
DOMAINS = (
    "example.com",
    "example.org",
    "mailbox.example.net",
    "gmail.com",
    "outlook.com",
    "yahoo.co.uk",
    "web.de",
    "orange.fr",
    "acme-corp.io",
)
STREETS = (
    "Baker Maple Oak Station Victoria Church Mill Harbour Kingsley Elm Cedar "
    "Willow Highfield Orchard Chestnut Meadow Riverside Albion"
).split()
STREET_TYPES = (
    "Street",
    "Road",
    "Avenue",
    "Lane",
    "Drive",
    "Close",
    "Way",
    "Court",
    "Crescent",
    "Place",
    "Terrace",
    "Boulevard",
    "St",
    "Rd",
    "Ave",
)
GB_TOWNS = ("London", "Leeds", "Bristol", "Manchester", "Glasgow", "Cardiff")
US_TOWNS = (("Atlanta", "GA"), ("Austin", "TX"), ("Denver", "CO"), ("Boston", "MA"))
DE_STREETS = ("Linden", "Garten", "Berg", "Schiller", "Goethe", "Bahnhof", "Kirch")
DE_SUFFIXES = ("straße", "strasse", "str.", "weg", "gasse", "allee", "platz")
DE_TOWNS = ("Berlin", "München", "Hamburg", "Köln", "Leipzig", "Dresden")


@dataclass(frozen=True)
class Phone:
    """A number as digits: country code and national significant number."""

    country: str  # calling code, e.g. "44"
    national: str  # national significant number, e.g. "7700900123"
    region: str  # GB, US, DE, ...

    @property
    def e164(self) -> str:
        return f"+{self.country}{self.national}"


def digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(count))


def phone(rng: random.Random) -> Phone:
    """A mobile or landline number of one of the regions people write from."""
    region = rng.choice(("GB", "GB", "US", "US", "DE", "FR", "ES", "IT", "NL", "IE"))
    if region == "GB":
        national = rng.choice(
            (
                "7700900" + digits(rng, 3),
                "7" + rng.choice("45789") + digits(rng, 8),
                "2079460" + digits(rng, 3),
                "1632960" + digits(rng, 3),
            )
        )
        return Phone("44", national, region)
    if region == "US":
        area = rng.choice(("404", "822", "415", "212", "617", "303", "512"))
        exchange = rng.choice(("555", str(rng.randint(201, 989))))
        return Phone("1", area + exchange + digits(rng, 4), region)
    if region == "DE":
        return Phone(
            "49", "1" + rng.choice("567") + digits(rng, 1) + digits(rng, 8), region
        )
    if region == "FR":
        return Phone("33", rng.choice("67") + digits(rng, 8), region)
    if region == "ES":
        return Phone("34", "6" + digits(rng, 8), region)
    if region == "IT":
        return Phone("39", "3" + rng.choice("2349") + digits(rng, 8), region)
    if region == "NL":
        return Phone("31", "6" + digits(rng, 8), region)
    return Phone("353", "8" + rng.choice("3567") + digits(rng, 7), region)


def _groups(number: str, sizes: tuple[int, ...]) -> list[str]:
    out, position = [], 0
    for size in sizes:
        out.append(number[position : position + size])
        position += size
    if position < len(number):
        out.append(number[position:])
    return [g for g in out if g]


def phone_written(rng: random.Random, number: Phone) -> str:
    """`number` as a person types it: with or without the country code, a
    00 prefix, a trunk zero, "(0)", spaces, dots, dashes or brackets."""
    n, cc = number.national, number.country
    if number.region == "US":
        area, exchange, line = n[:3], n[3:6], n[6:]
        return rng.choice(
            (
                f"+1-{area}-{exchange}-{line}",
                f"+1 ({area}) {exchange}-{line}",
                f"({area}) {exchange}-{line}",
                f"{area}-{exchange}-{line}",
                f"{area}.{exchange}.{line}",
                f"1-{area}-{exchange}-{line}",
                f"+1 {area} {exchange} {line}",
                f"+1{n}",
                f"({area}){exchange}-{line}",
                f"001 {area} {exchange} {line}",
            )
        )
    sizes = {
        "GB": (4, 6) if n.startswith("7") else (2, 4, 4),
        "DE": (3, 8),
        "FR": (1, 2, 2, 2, 2),
        "ES": (3, 3, 3),
        "IT": (3, 3, 4),
        "NL": (1, 8),
        "IE": (2, 3, 4),
    }[number.region]
    groups = _groups(n, sizes)
    trunk = "" if number.region in ("ES", "IT") else "0"
    sep = rng.choice((" ", " ", "-", ".", ""))
    local = sep.join(groups)
    return rng.choice(
        (
            f"+{cc} {' '.join(groups)}",
            f"+{cc} {local}",
            f"+{cc}{n}",
            f"00{cc} {' '.join(groups)}",
            f"00 {cc} {local}",
            f"+{cc} ({trunk or '0'}){' '.join(groups)}" if trunk else f"+{cc} {local}",
            f"+{cc}-{'-'.join(groups)}",
            f"{trunk}{' '.join(groups)}",
            f"{trunk}{local}",
            f"({trunk}{groups[0]}) {' '.join(groups[1:])}",
            f"{trunk}{groups[0]}/{''.join(groups[1:])}",
            f"{trunk}{n}",
        )
    )


def phone_stored(rng: random.Random, number: Phone) -> str:
    """How a store's phone column holds the number: E.164, international with
    spaces, or national (the way the customer typed it into a form)."""
    n = number.national
    if number.region == "US":
        return rng.choice(
            (number.e164, f"({n[:3]}) {n[3:6]}-{n[6:]}", f"{n[:3]}-{n[3:6]}-{n[6:]}")
        )
    trunk = "" if number.region in ("ES", "IT") else "0"
    return rng.choice(
        (number.e164, f"+{number.country} {n[:4]} {n[4:]}", f"{trunk}{n[:4]} {n[4:]}")
    )


def email(rng: random.Random, first: str, last: str) -> str:
    local = rng.choice(
        (
            f"{first}.{last}",
            f"{first[0]}{last}",
            f"{first}_{last}{rng.randint(1, 99)}",
            f"{last}.{first}",
            f"{first}{rng.randint(1970, 2005)}",
            f"{first}.{last}+shop",
        )
    )
    return f"{local}@{rng.choice(DOMAINS)}".lower()


def email_written(rng: random.Random, address: str) -> str:
    """The same address as people write it: any case, in brackets, mailto."""
    style = rng.randrange(6)
    if style == 0:
        local, domain = address.split("@")
        return (
            ".".join(p.capitalize() for p in local.split("."))
            + "@"
            + domain.capitalize()
        )
    if style == 1:
        return address.upper()
    return address


def luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    body = prefix + digits(rng, length - len(prefix) - 1)
    total = 0
    for index, char in enumerate(reversed(body)):
        value = int(char)
        if index % 2 == 0:
            value *= 2
            value -= 9 if value > 9 else 0
        total += value
    return body + str((10 - total % 10) % 10)


def card(rng: random.Random) -> str:
    kind = rng.choice(("visa", "visa", "mastercard", "amex"))
    if kind == "amex":
        number = luhn_complete(rng.choice(("34", "37")), 15, rng)
        sep = rng.choice((" ", "-", ""))
        return sep.join((number[:4], number[4:10], number[10:]))
    number = luhn_complete(
        "4" if kind == "visa" else "5" + rng.choice("12345"), 16, rng
    )
    sep = rng.choice((" ", " ", "-", ""))
    return sep.join(number[i : i + 4] for i in range(0, 16, 4))


_IBAN_SHAPES = {"DE": "n18", "GB": "a4n14", "FR": "n23", "NL": "a4n10", "ES": "n20"}


def iban(rng: random.Random) -> str:
    country = rng.choice(tuple(_IBAN_SHAPES))
    shape = _IBAN_SHAPES[country]
    if shape.startswith("a4"):
        bban = "".join(rng.choice(string.ascii_uppercase) for _ in range(4))
        bban += digits(rng, int(shape[3:]))
    else:
        bban = digits(rng, int(shape[1:]))
    rearranged = bban + country + "00"
    numeric = "".join(str(int(ch, 36)) for ch in rearranged)
    check = 98 - int(numeric) % 97
    value = f"{country}{check:02d}{bban}"
    if rng.random() < 0.7:
        return " ".join(value[i : i + 4] for i in range(0, len(value), 4))
    return value


_INWARD = "ABDEFGHJLNPQRSTUWXYZ"


def address(rng: random.Random) -> list[tuple[str, bool]]:
    """An address as (text, labelled) pieces: the street line and the
    postcode are personal data, the town between them alone is not."""
    style = rng.randrange(3)
    if style == 0:
        number = f"{rng.randint(1, 240)}{rng.choice(('', '', 'B', 'a'))}"
        street = f"{number} {rng.choice(STREETS)} {rng.choice(STREET_TYPES)}"
        outward = rng.choice(("NW1", "SW1A", "M1", "LS2", "BS8", "EH1", "CF10", "G12"))
        inward = f"{rng.randint(1, 9)}{rng.choice(_INWARD)}{rng.choice(_INWARD)}"
        postcode = f"{outward} {inward}"
        return [(street, True), (f", {rng.choice(GB_TOWNS)} ", False), (postcode, True)]
    if style == 1:
        street = (
            f"{rng.randint(10, 9800)} {rng.choice(STREETS)} {rng.choice(STREET_TYPES)}"
        )
        town, state = rng.choice(US_TOWNS)
        zip_code = f"{state} {rng.randint(10000, 99999)}"
        if rng.random() < 0.3:
            zip_code += f"-{rng.randint(1000, 9999)}"
        return [(street, True), (f", {town}, ", False), (zip_code, True)]
    name = f"{rng.choice(DE_STREETS)}{rng.choice(DE_SUFFIXES)}"
    street = f"{name} {rng.randint(1, 120)}{rng.choice(('', '', 'a'))}"
    return [
        (street, True),
        (", ", False),
        (f"{rng.randint(10000, 99999)} {rng.choice(DE_TOWNS)}", True),
    ]


DECOYS = (
    "VERSION",
    "DATE",
    "AMOUNT",
    "TRACKING",
    "TIME",
    "PRODUCT_CODE",
    "INVOICE",
    "REFERENCE",
    "QUANTITY",
    "CARD_LAST4",
)


def decoy(rng: random.Random, kind: str) -> str:
    """Text of one kind (DECOYS) that looks like personal data and is not."""
    year = rng.randint(2019, 2026)
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    text = {
        "VERSION": rng.choice(
            (
                f"v{rng.randint(1, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 99)}",
                f"{rng.randint(1, 19)}.{rng.randint(0, 9)}.{rng.randint(1000, 9999)}",
                f"build {year}{month:02d}{day:02d}.{rng.randint(1, 9)}",
            )
        ),
        "DATE": rng.choice(
            (
                f"{year}-{month:02d}-{day:02d}",
                f"{day:02d}/{month:02d}/{year}",
                f"{day:02d}.{month:02d}.{year}",
                f"{month}/{day}/{year}",
            )
        ),
        "AMOUNT": rng.choice(
            (
                f"${rng.randint(1, 9)},{rng.randint(100, 999)}.{rng.randint(10, 99)}",
                f"€{rng.randint(10, 999)},{rng.randint(10, 99)}",
                f"£{rng.randint(1, 999)}.{rng.randint(10, 99)}",
                f"{rng.randint(1000, 99999)}.00 EUR",
            )
        ),
        "TRACKING": rng.choice(
            (
                f"1Z{rng.randint(100, 999)}AA1{digits(rng, 10)}",
                f"JJD{digits(rng, 18)}",
                " ".join(
                    (
                        "9400",
                        digits(rng, 4),
                        digits(rng, 4),
                        digits(rng, 4),
                        digits(rng, 4),
                        digits(rng, 2),
                    )
                ),
            ),
        ),
        "TIME": rng.choice(
            (
                f"{rng.randint(7, 20)}:{rng.choice(('00', '15', '30', '45'))}",
                f"{rng.randint(8, 11)}:00-{rng.randint(12, 18)}:30",
            )
        ),
        "PRODUCT_CODE": rng.choice(
            (
                f"SKU-{rng.randint(10000, 99999)}-XL",
                f"P/N {digits(rng, 4)}-{digits(rng, 4)}-{digits(rng, 2)}",
                f"WH-{rng.randint(1000, 9999)}XM{rng.randint(2, 5)}",
                f"EAN {digits(rng, 13)}",
            )
        ),
        "INVOICE": f"INV-{year}-{digits(rng, 5)}",
        "REFERENCE": rng.choice(
            (
                f"ref {year}/{digits(rng, 4)}",
                f"case {digits(rng, 8)}",
                f"ticket #{rng.randint(10000, 99999)}",
            )
        ),
        "QUANTITY": f"{rng.randint(2, 12)} x {rng.choice(('250', '500', '750'))} ml",
        "CARD_LAST4": f"card ending {digits(rng, 4)}",
    }[kind]
    return text
