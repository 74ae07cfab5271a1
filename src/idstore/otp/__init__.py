"""TOTP without I/O: codes (RFC 4226, RFC 6238), otpauth URIs and their QR codes."""

from idstore.otp.codes import (
    Algorithm,
    MalformedCode,
    generate_secret,
    hotp,
    matching_steps,
    normalize_code,
    time_step,
)
from idstore.otp.qr import qr_png, qr_svg, qr_text
from idstore.otp.uri import (
    InvalidLabel,
    InvalidOtpauthUri,
    InvalidSecret,
    OtpauthParameters,
    build_otpauth_uri,
    decode_secret,
    encode_secret,
    parse_otpauth_uri,
)

__all__ = [
    "Algorithm",
    "InvalidLabel",
    "InvalidOtpauthUri",
    "InvalidSecret",
    "MalformedCode",
    "OtpauthParameters",
    "build_otpauth_uri",
    "decode_secret",
    "encode_secret",
    "generate_secret",
    "hotp",
    "matching_steps",
    "normalize_code",
    "parse_otpauth_uri",
    "qr_png",
    "qr_svg",
    "qr_text",
    "time_step",
]
