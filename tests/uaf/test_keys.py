"""Public key formats and signature schemes of the FIDO registry, one by one."""

from __future__ import annotations

import cbor2
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from idstore.uaf import KeyEncoding, SignatureAlgorithm, UafCode
from idstore.uaf.keys import public_key_der, signature_algorithm, verify_signature
from tests.support.uaf_keys import KeyKind, public_key_bytes, sign, spki
from tests.uaf.conftest import refusal

MALFORMED = UafCode.MALFORMED_REGISTRATION
MESSAGE = b"signed data"


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _spki(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@pytest.mark.parametrize("kind", list(KeyKind))
def test_each_key_kind_round_trips_to_der_and_verifies(kind: KeyKind) -> None:
    private_key = kind.generate()
    algorithm = SignatureAlgorithm(kind.signature_algorithm)

    der = public_key_der(
        kind.key_encoding,
        public_key_bytes(kind, private_key),
        algorithm=algorithm,
        error_code=MALFORMED,
    )
    verify_signature(
        public_key=der,
        algorithm=algorithm,
        message=MESSAGE,
        signature=sign(kind, private_key, MESSAGE),
    )

    assert der == spki(private_key)
    assert (
        refusal(
            lambda: verify_signature(
                public_key=der,
                algorithm=algorithm,
                message=MESSAGE + b"!",
                signature=sign(kind, private_key, MESSAGE),
            )
        )
        == 3710
    )


def test_a_p256_key_in_cose_form_is_read() -> None:
    private_key = ec.generate_private_key(ec.SECP256R1())
    numbers = private_key.public_key().public_numbers()
    cose = cbor2.dumps(
        {1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")}
    )

    der = public_key_der(
        KeyEncoding.COSE,
        cose,
        algorithm=SignatureAlgorithm.SECP256R1_ECDSA_SHA256_DER,
        error_code=MALFORMED,
    )

    assert der == _spki(private_key)


@pytest.mark.parametrize(
    ("algorithm", "scheme"),
    [
        (SignatureAlgorithm.RSASSA_PSS_SHA256_RAW, padding.PSS(padding.MGF1(hashes.SHA256()), 32)),
        (SignatureAlgorithm.RSA_EMSA_PKCSV15_SHA256_RAW, padding.PKCS1v15()),
        (SignatureAlgorithm.RSASSA_PKCSV15_SHA256_RAW, padding.PKCS1v15()),
    ],
)
def test_rsa_signatures_verify_with_each_rsa_key_format(
    rsa_key: rsa.RSAPrivateKey, algorithm: SignatureAlgorithm, scheme: padding.AsymmetricPadding
) -> None:
    numbers = rsa_key.public_key().public_numbers()
    formats = {
        KeyEncoding.RSA_2048_RAW: numbers.n.to_bytes(256, "big") + numbers.e.to_bytes(4, "big"),
        KeyEncoding.RSA_2048_DER: rsa_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.PKCS1
        ),
        KeyEncoding.ECC_X962_DER: _spki(rsa_key),
        KeyEncoding.COSE: cbor2.dumps(
            {1: 3, -1: numbers.n.to_bytes(256, "big"), -2: numbers.e.to_bytes(3, "big")}
        ),
    }
    signature = rsa_key.sign(MESSAGE, scheme, hashes.SHA256())

    for encoding, key_bytes in formats.items():
        der = public_key_der(encoding, key_bytes, algorithm=algorithm, error_code=MALFORMED)
        verify_signature(public_key=der, algorithm=algorithm, message=MESSAGE, signature=signature)
        assert der == _spki(rsa_key), encoding.name


def test_an_unknown_algorithm_or_key_encoding_is_refused_with_3715() -> None:
    key = public_key_bytes(KeyKind.P256_RAW, KeyKind.P256_RAW.generate())
    p256 = SignatureAlgorithm.SECP256R1_ECDSA_SHA256_RAW

    assert refusal(lambda: signature_algorithm(0x0007)) == 3715
    assert (
        refusal(lambda: public_key_der(0x0105, key, algorithm=p256, error_code=MALFORMED)) == 3715
    )


def test_an_spki_naming_an_unknown_key_algorithm_is_refused_with_3715() -> None:
    der = public_key_bytes(KeyKind.P256_RAW_DER_KEY, KeyKind.P256_RAW_DER_KEY.generate())
    # id-ecPublicKey (1.2.840.10045.2.1) turned into the unassigned 1.2.840.10045.2.9
    unknown = der.replace(bytes.fromhex("2a8648ce3d0201"), bytes.fromhex("2a8648ce3d0209"))
    p256 = SignatureAlgorithm.SECP256R1_ECDSA_SHA256_RAW

    assert unknown != der
    assert (
        refusal(
            lambda: public_key_der(
                KeyEncoding.ECC_X962_DER, unknown, algorithm=p256, error_code=MALFORMED
            )
        )
        == 3715
    )


@pytest.mark.parametrize("unsuitable", ["rsa", "p384"])
def test_a_key_that_does_not_suit_the_algorithm_is_refused_with_3715(
    rsa_key: rsa.RSAPrivateKey, unsuitable: str
) -> None:
    key = rsa_key if unsuitable == "rsa" else ec.generate_private_key(ec.SECP384R1())
    p256 = SignatureAlgorithm.SECP256R1_ECDSA_SHA256_RAW

    assert (
        refusal(
            lambda: public_key_der(
                KeyEncoding.ECC_X962_DER, _spki(key), algorithm=p256, error_code=MALFORMED
            )
        )
        == 3715
    )
    assert (
        refusal(
            lambda: verify_signature(
                public_key=_spki(key), algorithm=p256, message=MESSAGE, signature=b""
            )
        )
        == 3715
    )


@pytest.mark.parametrize(
    ("encoding", "key_bytes"),
    [
        (KeyEncoding.ECC_X962_RAW, b"\x04" + bytes(64)),
        (KeyEncoding.ECC_X962_RAW, b""),
        (KeyEncoding.ECC_X962_DER, b"\x30\x03\x02\x01\x01"),
        (KeyEncoding.RSA_2048_RAW, bytes(259)),
        (KeyEncoding.COSE, b"\xff"),
        (KeyEncoding.COSE, cbor2.dumps([1, 2])),
        (KeyEncoding.COSE, cbor2.dumps({1: 2, -1: 1, -2: b"x", -3: b"y"})),
        (KeyEncoding.COSE, cbor2.dumps({1: 1, -1: 6})),
    ],
)
def test_bytes_that_are_no_key_in_the_stated_format_are_refused_as_malformed(
    encoding: KeyEncoding, key_bytes: bytes
) -> None:
    algorithm = SignatureAlgorithm.SECP256R1_ECDSA_SHA256_RAW

    assert (
        refusal(
            lambda: public_key_der(encoding, key_bytes, algorithm=algorithm, error_code=MALFORMED)
        )
        == 3711
    )


@pytest.mark.parametrize("signature", [b"", bytes(64), bytes(63), b"\x30\x00"])
@pytest.mark.parametrize(
    "algorithm",
    [SignatureAlgorithm.SECP256R1_ECDSA_SHA256_RAW, SignatureAlgorithm.SECP256R1_ECDSA_SHA256_DER],
)
def test_a_malformed_p256_signature_does_not_verify(
    signature: bytes, algorithm: SignatureAlgorithm
) -> None:
    der = spki(KeyKind.P256_RAW.generate())

    assert (
        refusal(
            lambda: verify_signature(
                public_key=der, algorithm=algorithm, message=MESSAGE, signature=signature
            )
        )
        == 3710
    )


@pytest.mark.parametrize(
    ("bits", "exponent"),
    [(1024, 65537), (4104, 65537), (2048, 2**40 + 1)],
    ids=["modulus too small", "modulus too large", "exponent too large"],
)
def test_an_rsa_key_outside_the_bounds_is_refused_with_3715(bits: int, exponent: int) -> None:
    modulus = (1 << (bits - 1)) | 0xF1  # odd and of exactly `bits` bits: enough for a key object
    key_bytes = (
        rsa.RSAPublicNumbers(exponent, modulus)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    algorithm = SignatureAlgorithm.RSASSA_PKCSV15_SHA256_RAW

    assert (
        refusal(
            lambda: public_key_der(
                KeyEncoding.ECC_X962_DER, key_bytes, algorithm=algorithm, error_code=MALFORMED
            )
        )
        == 3715
    )
