"""Signed, expiring download paths of attachments (contract section 9): same-origin, usable by an
`<img>` (no header needed), valid for an hour from when the object carrying them was made.

`/api/files/<upload id>[/thumbnail]?expires=<unix seconds>&signature=<hex>`, the signature an
HMAC-SHA256 of (upload id, variant, expiry) under a key derived from PARLEY_JWT_SECRET, so every
process of a deployment signs and checks alike."""

import hashlib
import hmac
import time

URL_LIFETIME_SECONDS = 3600


class BlobUrls:
    def __init__(self, secret: str, lifetime: int = URL_LIFETIME_SECONDS) -> None:
        self.key = hashlib.sha256(b"parley attachment urls\0" + secret.encode()).digest()
        self.lifetime = lifetime

    def _signature(self, upload_id: str, thumbnail: bool, expires: int) -> str:
        text = f"{upload_id}\0{'thumbnail' if thumbnail else 'file'}\0{expires}".encode()
        return hmac.new(self.key, text, hashlib.sha256).hexdigest()

    def url(self, upload_id: str, thumbnail: bool) -> str:
        expires = int(time.time()) + self.lifetime
        path = f"/api/files/{upload_id}" + ("/thumbnail" if thumbnail else "")
        return f"{path}?expires={expires}&signature={self._signature(upload_id, thumbnail, expires)}"

    def check(self, upload_id: str, thumbnail: bool, expires: str, signature: str) -> bool:
        """Whether the signature is ours and has not expired."""
        if not expires.isdigit() or len(expires) > 12:
            return False
        wanted = self._signature(upload_id, thumbnail, int(expires))
        return hmac.compare_digest(wanted, signature) and int(expires) >= time.time()
