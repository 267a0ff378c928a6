"""webserver: the page folder served with gzip where the build wrote it, and cross-origin isolation headers."""

import gzip
import threading
import urllib.request

from sketch_edge import webserver


def _get(url: str, accept_gzip: bool) -> tuple[bytes, dict[str, str]]:
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"} if accept_gzip else {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read(), dict(response.headers)


def test_a_gzipped_copy_goes_to_a_browser_that_takes_it_and_the_file_to_one_that_does_not(tmp_path):
    body = b"\0asm" + bytes(range(256)) * 400
    (tmp_path / "runtime.wasm").write_bytes(body)
    (tmp_path / "runtime.wasm.gz").write_bytes(gzip.compress(body))
    (tmp_path / "index.html").write_text("<p>page</p>")
    with webserver.server(tmp_path, 0) as running:
        threading.Thread(target=running.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{running.server_port}"
        packed, headers = _get(f"{url}/runtime.wasm", accept_gzip=True)
        assert headers["Content-Encoding"] == "gzip" and headers["Content-Type"] == "application/wasm"
        assert gzip.decompress(packed) == body and len(packed) < len(body)
        plain, headers = _get(f"{url}/runtime.wasm", accept_gzip=False)
        assert plain == body and "Content-Encoding" not in headers
        page, headers = _get(f"{url}/index.html", accept_gzip=True)  # no .gz beside it: as it is
        assert page == b"<p>page</p>" and "Content-Encoding" not in headers
        for name, value in webserver.ISOLATION.items():
            assert headers[name] == value
        running.shutdown()


def test_a_port_in_use_is_one_line_naming_it(tmp_path):
    import pytest

    from sketch_edge.errors import WebBuildError

    with webserver.server(tmp_path, 0) as taken:
        port = taken.server_port
        with pytest.raises(WebBuildError, match=rf"127.0.0.1:{port}: cannot serve the page there"):
            webserver.server(tmp_path, port)
