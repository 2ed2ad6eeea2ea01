"""dc43's TOML read for ``serve --dc43-config``: the checks dc43's ``load_config`` skips, the
stores that would need Spark refused by name, URIs kept as written, storage options, the
environment's overrides, and tables in Unity Catalog."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from dc43_service_clients.contracts.client.remote import RemoteContractServiceClient

from dc43_delta_store import DeltaContractStore, InvalidRequestError
from dc43_delta_store.serve import ServeSettings, app_from_settings
from dc43_delta_store.serve.dc43_config import read_dc43_config

from .servers import CatalogState, MotoS3, UnityCatalogServer
from .serving import serving
from .test_dc43_compat import dc43_contract

DELTA = '[contract_store]\ntype = "delta"\nbase_path = "{path}"\n'


def toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "dc43.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "dc43.toml does not exist"),
        ("[contract_store\ntype = 'delta'", "dc43.toml is not valid TOML"),
        (
            '[contract_store]\ntype = "filesystem"\nroot = "x"\n',
            "[contract_store] type is 'filesystem'",
        ),
        ('[contract_store]\ntype = "sql"\ndsn = "sqlite://"\n', 'set type = "delta"'),
        ('[contract_store]\ntype = "delta"\n', "[contract_store] needs table or base_path"),
        (
            DELTA + '[data_product]\ntype = "delta"\ntable = "p"\n',
            '[data_product] type = "delta" needs Spark',
        ),
        (
            DELTA + '[governance_store]\ntype = "delta"\nbase_path = "g"\n',
            '[governance_store] type = "delta" needs Spark',
        ),
        (DELTA + "[contract_store.storage_options]\nx = 1\n", None),
        (
            DELTA.replace("\n", '\nvalidation = "loose"\n', 1),
            "validation must be strict, warn or off",
        ),
    ],
)
def test_a_configuration_that_cannot_be_served_is_refused_naming_file_and_setting(
    tmp_path: Path, text: str | None, message: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DC43_SERVICE_BACKENDS_CONFIG", raising=False)
    path = (
        tmp_path / "dc43.toml" if text is None else toml(tmp_path, text.format(path=tmp_path / "t"))
    )
    if message is None:  # storage option values are text whatever TOML type they had
        assert read_dc43_config(path)[1].storage_options == {"x": "1"}
        return
    with pytest.raises(InvalidRequestError) as caught:
        read_dc43_config(path)
    assert message in str(caught.value) and str(path) in str(caught.value)


def test_a_folder_is_not_a_configuration(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequestError, match="is a folder, not a file"):
        read_dc43_config(tmp_path)


def test_the_environment_overrides_the_file_as_in_dc43(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = toml(tmp_path, '[contract_store]\ntype = "filesystem"\nroot = "unused"\n')
    monkeypatch.setenv("DC43_CONTRACT_STORE_TYPE", "delta")
    monkeypatch.setenv("DC43_CONTRACT_STORE", str(tmp_path / "from-env"))
    _, spec = read_dc43_config(path)
    assert spec.path == str(tmp_path / "from-env") and spec.table is None
    monkeypatch.setenv("DC43_CONTRACT_STORE_TABLE", "governance.meta.contracts")
    _, spec = read_dc43_config(path)
    assert spec.table == "governance.meta.contracts" and spec.path is None


def test_an_s3_uri_stays_a_uri_and_storage_options_reach_the_store(
    tmp_path: Path, moto_s3: MotoS3, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DC43_DELTA_STORE_WRITE_TOKENS", "w")
    uri = f"s3://{moto_s3.bucket()}/contracts"
    options = "\n".join(f'{key} = "{value}"' for key, value in moto_s3.options().items())
    path = toml(
        tmp_path,
        f'[contract_store]\ntype = "delta"\nbase_path = "{uri}"\n\n[contract_store.storage_options]\n{options}\n',
    )
    _, spec = read_dc43_config(path)
    assert spec.path == uri  # dc43's own reading makes it "s3:/bucket/contracts"
    app, description = app_from_settings(
        ServeSettings(dc43_config=str(path), tokens_file=None, storage_options={})
    )
    assert uri in description
    with serving(app) as url, _client(url, "w") as client:
        client.put(dc43_contract("1.0.0"))
        assert client.latest("sales.orders").version == "1.0.0"  # type: ignore[union-attr]
    assert DeltaContractStore(path=uri, storage_options=moto_s3.options()).list_versions(
        "sales.orders"
    ) == ["1.0.0"]


@pytest.fixture
def catalog(moto_s3: MotoS3) -> Iterator[UnityCatalogServer]:
    vended = {"AWS_ACCESS_KEY_ID": "vended-key-id", "AWS_SECRET_ACCESS_KEY": "vended-secret-value"}
    server = UnityCatalogServer(CatalogState("uc-token", {"main.governance"}, vended))
    yield server
    server.stop()


def test_a_unity_catalog_table_named_in_the_toml_is_served(
    tmp_path: Path, moto_s3: MotoS3, catalog: UnityCatalogServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DC43_DELTA_STORE_WRITE_TOKENS", "w")
    location = f"s3://{moto_s3.bucket()}/tables/contracts"
    catalog.register("main.governance.contracts", location)
    endpoint = {
        k: v
        for k, v in moto_s3.options().items()
        if not k.startswith("AWS_SECRET") and k != "AWS_ACCESS_KEY_ID"
    }
    options = "\n".join(f'{key} = "{value}"' for key, value in endpoint.items())
    path = toml(
        tmp_path,
        f"""
[contract_store]
type = "delta"
table = "main.governance.contracts"

[contract_store.storage_options]
{options}

[unity_catalog]
workspace_url = "{catalog.url}"
workspace_token = "uc-token"
""",
    )
    app, description = app_from_settings(ServeSettings(dc43_config=str(path)))
    assert "main.governance.contracts" in description and "uc-token" not in description
    with serving(app) as url, _client(url, "w") as client:
        client.put(dc43_contract("1.0.0"))
        assert client.get("sales.orders", "1.0.0").version == "1.0.0"
    assert catalog.state.calls["get_table"] >= 1 and catalog.state.calls["table_credentials"] >= 1


def _client(url: str, token: str) -> RemoteContractServiceClient:
    return _Closing(base_url=url, token=token)


class _Closing(RemoteContractServiceClient):
    def __enter__(self) -> RemoteContractServiceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
