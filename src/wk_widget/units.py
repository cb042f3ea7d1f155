"""Length units: UDUNITS names, usual abbreviations, WEBKNOSSOS long names, conversion."""

from __future__ import annotations

# WEBKNOSSOS LengthUnit long names -> size in nanometers.
NANOMETERS_PER_UNIT: dict[str, float] = {
    "yoctometer": 1e-15,
    "zeptometer": 1e-12,
    "attometer": 1e-9,
    "femtometer": 1e-6,
    "picometer": 1e-3,
    "angstrom": 0.1,
    "nanometer": 1.0,
    "micrometer": 1e3,
    "millimeter": 1e6,
    "centimeter": 1e7,
    "decimeter": 1e8,
    "meter": 1e9,
    "hectometer": 1e11,
    "kilometer": 1e12,
    "megameter": 1e15,
    "gigameter": 1e18,
    "terameter": 1e21,
    "petameter": 1e24,
    "exameter": 1e27,
    "zettameter": 1e30,
    "yottameter": 1e33,
    "inch": 2.54e7,
    "foot": 3.048e8,
    "yard": 9.144e8,
    "mile": 1.609344e12,
    "parsec": 3.0856775814913673e25,
}

_ALIASES: dict[str, str] = {
    "ym": "yoctometer",
    "zm": "zeptometer",
    "am": "attometer",
    "fm": "femtometer",
    "pm": "picometer",
    "å": "angstrom",
    "Å": "angstrom",
    "a": "angstrom",
    "ang": "angstrom",
    "angstroms": "angstrom",
    "ångström": "angstrom",
    "nm": "nanometer",
    "nanometre": "nanometer",
    "um": "micrometer",
    "µm": "micrometer",
    "μm": "micrometer",
    "micron": "micrometer",
    "microns": "micrometer",
    "micrometre": "micrometer",
    "mm": "millimeter",
    "millimetre": "millimeter",
    "cm": "centimeter",
    "centimetre": "centimeter",
    "dm": "decimeter",
    "m": "meter",
    "metre": "meter",
    "hm": "hectometer",
    "km": "kilometer",
    "kilometre": "kilometer",
    "in": "inch",
    "ft": "foot",
    "yd": "yard",
    "mi": "mile",
    "pc": "parsec",
}


def normalize_unit(unit: str | None) -> str | None:
    """The WEBKNOSSOS long name of a length unit, or None if it is not a known length unit."""
    if unit is None:
        return None
    text = str(unit).strip()
    if text in _ALIASES:
        return _ALIASES[text]
    lower = text.lower()
    if lower in NANOMETERS_PER_UNIT:
        return lower
    if lower in _ALIASES:
        return _ALIASES[lower]
    if lower.endswith("s") and lower[:-1] in NANOMETERS_PER_UNIT:  # "nanometers"
        return lower[:-1]
    if lower.endswith("metres") or lower.endswith("metre"):
        return normalize_unit(lower.replace("metres", "meter").replace("metre", "meter"))
    return None


def to_nanometers(value: float, unit: str) -> float:
    return value * NANOMETERS_PER_UNIT[unit]


def convert(value: float, from_unit: str, to_unit: str) -> float:
    if from_unit == to_unit:
        return value
    return value * NANOMETERS_PER_UNIT[from_unit] / NANOMETERS_PER_UNIT[to_unit]
