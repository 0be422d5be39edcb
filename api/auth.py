"""Who is calling: the local network passes as "local", everyone else shows a JWT.

A forwarded client address (X-Forwarded-For, or X-Real-IP when configured) is believed only when the
direct peer is a configured proxy; otherwise anyone could claim to be on the trusted network with one header.
Tokens are never logged and never echoed in an error message.
"""

import functools
import ipaddress
from dataclasses import dataclass
from typing import Literal

from fastapi import HTTPException, Request

from studio.settings import Settings

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class User:
    name: str
    via: Literal["network", "jwt"]


LOCAL_USER = User(name="local", via="network")


# Every request asks about its peer (and its forwarded chain): parsing an address is the costly part
# of the answer, and a service hears from few addresses. Bounded, so a flood of made-up ones only evicts.
@functools.lru_cache(maxsize=1024)
def _parse_ip(value: str | None) -> IpAddress | None:
    if not value:
        return None
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    # "::ffff:10.0.0.1" from a dual-stack socket is the IPv4 client 10.0.0.1.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _within(address: IpAddress | None, networks: tuple) -> bool:
    return address is not None and any(address in network for network in networks)


def _forwarded_chain(request: Request) -> list[str]:
    return [hop.strip() for value in request.headers.getlist("x-forwarded-for") for hop in value.split(",")
            if hop.strip()]


def client_address(request: Request, settings: Settings) -> IpAddress | None:
    """The caller's address: the socket peer, or what a trusted proxy says the client was.

    One rule: behind a trusted proxy the configured header (`STUDIO_API_CLIENT_IP_HEADER`) is read,
    X-Forwarded-For by default, right to left through the trusted proxies; X-Real-IP only when it is
    the configured header, and then never X-Forwarded-For. None when it cannot be known; that never
    counts as a trusted network.
    """
    peer = _parse_ip(request.client.host if request.client else None)
    chain = _forwarded_chain(request)
    if _within(peer, settings.api_trusted_proxies):
        if settings.api_client_ip_header == "x-real-ip":
            return _parse_ip(request.headers.get("x-real-ip"))
        # A proxy appends the address it saw, so entries left of the first hop that is not one of our
        # proxies were written by the client itself.
        for hop in reversed(chain):
            address = _parse_ip(hop)
            if not _within(address, settings.api_trusted_proxies):
                return address
        return peer
    if chain and request.client is not None and request.client.host in chain:
        # The ASGI server replaced the socket peer by a forwarded address (uvicorn does so by default
        # for peers in FORWARDED_ALLOW_IPS): the real peer is unknown, and a header proves nothing.
        return None
    return peer


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status_code=401, detail=detail, headers={"WWW-Authenticate": "Bearer"})


def _verification_keys(settings: Settings) -> dict[str, str]:
    """Each configured key with the one algorithm it may be used with (no confusion possible)."""
    keys = {}
    if settings.jwt_secret:
        keys["HS256"] = settings.secret("jwt_secret")
    if settings.jwt_public_key:
        keys["RS256"] = settings.secret("jwt_public_key")
    return keys


def user_from_token(token: str, settings: Settings) -> User:
    import jwt  # with cryptography ~30 ms at start-up; only callers outside the trusted networks need it

    keys = _verification_keys(settings)
    if not keys:
        raise _unauthorized("not on a trusted network, and token login is not configured on this server")
    try:
        algorithm = jwt.get_unverified_header(token).get("alg")
    except jwt.PyJWTError:
        raise _unauthorized("the bearer token is not a well-formed JWT") from None
    if algorithm not in keys:
        accepted = ", ".join(sorted(keys))
        raise _unauthorized(f"token algorithm {str(algorithm)[:20]!r} is not accepted (accepted: {accepted})")
    try:
        claims = jwt.decode(token, keys[algorithm], algorithms=[algorithm], audience=settings.jwt_audience,
                            options={"require": ["exp", "aud", "sub"]})
    except jwt.ExpiredSignatureError:
        raise _unauthorized("the token has expired") from None
    except jwt.InvalidAudienceError:
        raise _unauthorized(f"the token is not for this service (audience must be {settings.jwt_audience!r})") from None
    except jwt.MissingRequiredClaimError as exc:
        raise _unauthorized(f"the token has no {exc.claim!r} claim") from None
    except jwt.InvalidSignatureError:
        raise _unauthorized("the token signature is invalid") from None
    except jwt.PyJWTError as exc:
        # PyJWT's messages describe the token's structure, never its content.
        raise _unauthorized(f"the token is invalid: {type(exc).__name__}") from None
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject.strip():
        raise _unauthorized("the token's 'sub' claim is empty")
    return User(name=subject.strip(), via="jwt")


def authenticate(request: Request, settings: Settings, address: IpAddress | None) -> User:
    """The caller at `address` (client_address), or an HTTPException 401 saying why not (the reason
    never contains the token)."""
    if _within(address, settings.api_trusted_networks):
        return LOCAL_USER
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("not on a trusted network: send 'Authorization: Bearer <JWT>'")
    return user_from_token(token.strip(), settings)


async def require_user(request: Request) -> User:
    """The caller, for routes that need the name (`CurrentUser`).

    The auth gate (api/middleware/auth_gate.py) has already decided before the body was read and left
    the caller in the request state; deciding here again covers an app built without the gate.
    """
    user = getattr(request.state, "user", None)
    if user is not None:
        return user
    settings = request.app.state.settings
    return authenticate(request, settings, client_address(request, settings))
