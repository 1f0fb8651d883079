"""reference data: the 7 oblasts, Bishkek and Osh, 40 districts, demo municipalities, communities

Loads `storage/reference/geography.csv`; rows whose code already exists are left as staff edited
them, so re-running is harmless.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import csv
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CSV = Path(__file__).resolve().parents[2] / "reference" / "geography.csv"


def upgrade() -> None:
    conn = op.get_bind()
    with CSV.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))

    def one(sql: str, **params: object) -> object:
        return conn.execute(sa.text(sql), params).scalar()

    for row in rows:
        names = {k: row[k] for k in ("name_ky", "name_ru", "name_en")}
        sort = int(row["sort"] or 0)
        kind, code = row["kind"], row["code"]
        if kind == "region":
            if one("SELECT id FROM region WHERE code=:c", c=code) is None:
                conn.execute(
                    sa.text("INSERT INTO region (code, kind, sort, active, name_ky, name_ru, "
                            "name_en) VALUES (:code, :kind, :sort, :active, :name_ky, :name_ru, "
                            ":name_en)"),
                    {"code": code, "kind": row["extra"] or "oblast", "sort": sort,
                     "active": True, **names},
                )
        elif kind == "district":
            region_id = one("SELECT id FROM region WHERE code=:c", c=row["parent"])
            if one("SELECT id FROM district WHERE code=:c", c=code) is None:
                conn.execute(
                    sa.text("INSERT INTO district (code, region_id, sort, active, name_ky, "
                            "name_ru, name_en) VALUES (:code, :region_id, :sort, :active, "
                            ":name_ky, :name_ru, :name_en)"),
                    {"code": code, "region_id": region_id, "sort": sort, "active": True,
                     **names},
                )
        elif kind == "municipality":
            district_id = one("SELECT id FROM district WHERE code=:c", c=row["parent"])
            exists = one("SELECT id FROM municipality WHERE code=:c AND district_id=:d",
                         c=code, d=district_id)
            if exists is None:
                conn.execute(
                    sa.text("INSERT INTO municipality (code, district_id, kind, active, name_ky, "
                            "name_ru, name_en) VALUES (:code, :district_id, :kind, :active, "
                            ":name_ky, :name_ru, :name_en)"),
                    {"code": code, "district_id": district_id,
                     "kind": row["extra"] or "aiyl_aimak", "active": True, **names},
                )
        elif kind == "community":
            if one("SELECT id FROM community WHERE code=:c", c=code) is None:
                conn.execute(
                    sa.text("INSERT INTO community (code, sort, name_ky, name_ru, name_en) "
                            "VALUES (:code, :sort, :name_ky, :name_ru, :name_en)"),
                    {"code": code, "sort": sort, **names},
                )


def downgrade() -> None:
    # Reference rows may be referenced by members by now; leave them in place.
    pass
