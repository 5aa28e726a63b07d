"""Personal access token format: `athena_pat_` + 32 random base62 characters + a 6-character checksum.

The random part carries about 190 bits. The CRC32 checksum lets secret scanners, and Athena
itself, tell a real token from a look-alike without a database lookup.
"""

import hashlib
import secrets
import string
import zlib

PREFIX = "athena_pat_"
ALPHABET = string.digits + string.ascii_letters
RANDOM_LENGTH = 32
CHECKSUM_LENGTH = 6
TOKEN_LENGTH = len(PREFIX) + RANDOM_LENGTH + CHECKSUM_LENGTH


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, remainder = divmod(number, 62)
        digits.append(ALPHABET[remainder])
    return "".join(reversed(digits))


def _checksum(random_part: str) -> str:
    return _base62(zlib.crc32(random_part.encode("ascii")), CHECKSUM_LENGTH)


def generate_token() -> str:
    random_part = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
    return PREFIX + random_part + _checksum(random_part)


def is_well_formed(raw: str) -> bool:
    """Tell whether `raw` has the token's shape and a matching checksum."""
    if len(raw) != TOKEN_LENGTH or not raw.startswith(PREFIX):
        return False
    body = raw[len(PREFIX) :]
    if any(character not in ALPHABET for character in body):
        return False
    random_part, checksum = body[:RANDOM_LENGTH], body[RANDOM_LENGTH:]
    return secrets.compare_digest(_checksum(random_part), checksum)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def token_hint(raw: str) -> str:
    """Return the prefix and the first 4 random characters, enough to recognise a token."""
    return raw[: len(PREFIX) + 4]
