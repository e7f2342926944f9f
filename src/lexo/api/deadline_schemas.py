"""Request and response shapes of the deadlines routes (``/api/v1/deadlines``)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field


class DeadlineOut(BaseModel):
    document_id: int
    due_date: str = Field(description="YYYY-MM-DD: the document's due_date field.")
    amount: float | None = Field(None, description="The document's amount_total.")
    currency: str | None = Field(None, description="ISO 4217 code, e.g. EUR.")
    issuer: str | None = None
    doc_type: str | None = None
    title: str = Field(description="The document's title, else its original file name.")
    overdue: bool = Field(description="The due date is before today.")
    days_left: int = Field(description="Days from today to the due date; negative: overdue.")
    dismissed: bool = Field(description="Marked paid for this due date.")


class DeadlinesOut(BaseModel):
    today: str = Field(description="YYYY-MM-DD: the server's day the deadlines are counted from.")
    deadlines: list[DeadlineOut] = Field(description="By due date, earliest first.")


class DismissIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    due_date: date | None = Field(
        None, description="YYYY-MM-DD; default: the document's current due date."
    )


class DismissalOut(BaseModel):
    document_id: int
    due_date: str = Field(description="YYYY-MM-DD: the due date marked paid, or shown again.")
    dismissed: bool
