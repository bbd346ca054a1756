"""Reference data seeded by revision 0002: WhatsApp templates and Hebrew display texts.

Ids are uuid5 over a fixed namespace and the row's natural key, so every upgrade inserts the same
ids and a downgrade can delete exactly these rows and nothing an operator added later.
This data belongs to revision 0002: change it through a new revision, not by editing it here.
"""

from __future__ import annotations

import uuid
from typing import Any

NAMESPACE = uuid.UUID("6f1c1d0e-8a55-4c5e-9a43-7d2f0b6a9e11")

TEMPLATE = "order_confirmation_global"
# The order the vendor template expects its body parameters in ({{1}}..{{8}}).
TEMPLATE_PARAMETERS = [
    "customer_name",
    "destination",
    "flag_emoji",
    "order_number",
    "visa_type",
    "applicant_count",
    "amount",
    "processing_days",
]
# Applicant count is sent bare: the template itself prints the multiplication sign (once doubled).
TEMPLATE_BODIES = {
    "he": (
        "שלום {{1}} 👋\n"
        "הזמנת הוויזה שלך ל{{2}} {{3}} התקבלה בהצלחה ✅\n"
        "מספר הזמנה: {{4}}\n"
        "סוג ויזה: {{5}}\n"
        "מספר מבקשים: \N{MULTIPLICATION SIGN}{{6}}\n"
        "סכום ששולם: ₪{{7}}\n"
        "זמן טיפול משוער: {{8}} ימי עסקים\n"
        "נעדכן אותך בכל שלב. תודה שבחרת בנו!"
    ),
    "en": (
        "Hello {{1}} 👋\n"
        "Your visa order for {{2}} {{3}} has been received ✅\n"
        "Order number: {{4}}\n"
        "Visa type: {{5}}\n"
        "Applicants: \N{MULTIPLICATION SIGN}{{6}}\n"
        "Amount paid: {{7}}\n"
        "Estimated processing time: {{8}} business days\n"
        "We will keep you updated at every step. Thank you for choosing us!"
    ),
    "ru": (
        "Здравствуйте, {{1}} 👋\n"
        "Ваш заказ на визу в {{2}} {{3}} успешно принят ✅\n"
        "Номер заказа: {{4}}\n"
        "Тип визы: {{5}}\n"
        "Заявителей: \N{MULTIPLICATION SIGN}{{6}}\n"
        "Оплачено: {{7}}\n"
        "Ориентировочный срок оформления: {{8}} рабочих дней\n"
        "Мы будем держать вас в курсе. Спасибо, что выбрали нас!"
    ),
    "sv": (
        "Hej {{1}} 👋\n"
        "Din visumbeställning för {{2}} {{3}} har tagits emot ✅\n"
        "Ordernummer: {{4}}\n"
        "Visumtyp: {{5}}\n"
        "Antal sökande: \N{MULTIPLICATION SIGN}{{6}}\n"
        "Betalt belopp: {{7}}\n"
        "Beräknad handläggningstid: {{8}} arbetsdagar\n"
        "Vi håller dig uppdaterad hela vägen. Tack för att du valde oss!"
    ),
}

COUNTRIES_HE = {
    "india": "הודו",
    "uk": "בריטניה",
    "usa": "ארצות הברית",
    "canada": "קנדה",
    "morocco": "מרוקו",
    "vietnam": "וייטנאם",
    "korea": "דרום קוריאה",
    "israel": "ישראל",
    "saudi_arabia": "ערב הסעודית",
    "schengen": "אזור שנגן",
    "new_zealand": "ניו זילנד",
    "cambodia": "קמבודיה",
    "thailand": "תאילנד",
    "sri_lanka": "סרי לנקה",
    "indonesia": "אינדונזיה",
    "bahrain": "בחריין",
    "togo": "טוגו",
}
VISA_TYPES_HE = {
    "evisa": "ויזה אלקטרונית",
    "eta": "אישור נסיעה (ETA)",
    "esta": "אישור נסיעה (ESTA)",
    "k-eta": "אישור נסיעה (K-ETA)",
    "visa": "ויזה",
    "tourist": "ויזת תיירות",
    "business": "ויזת עסקים",
}
# "for <period>", as the reference's WhatsApp translation table phrases validities.
VALIDITIES_HE = {
    "2_weeks": "לשבועיים",
    "15_days": "ל-15 ימים",
    "month": "לחודש",
    "2_months": "לחודשיים",
    "3_months": "ל-3 חודשים",
    "6_months": "לחצי שנה",
    "year": "לשנה",
    "2_years": "לשנתיים",
    "3_years": "ל-3 שנים",
    "5_years": "ל-5 שנים",
    "10_years": "ל-10 שנים",
}
# Hebrew has a singular form for one day; the reference's contact sync uses these phrases.
PROCESSING_DAYS_HE = {
    days: "תוך יום עסקים אחד" if days == "1" else f"תוך {days} ימי עסקים"
    for days in ("1", "2", "3", "4", "5", "7", "10", "21", "30")
}

TRANSLATIONS_HE = {
    "country": COUNTRIES_HE,
    "visa_type": VISA_TYPES_HE,
    "validity": VALIDITIES_HE,
    "processing_days": PROCESSING_DAYS_HE,
}


def seed_id(*natural_key: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, "/".join(natural_key))


def template_rows() -> list[dict[str, Any]]:
    return [
        {
            "id": seed_id("message_templates", TEMPLATE, language),
            "name": TEMPLATE,
            "language": language,
            "parameters": list(TEMPLATE_PARAMETERS),
            "body_preview": body,
            "category": "utility",
        }
        for language, body in TEMPLATE_BODIES.items()
    ]


def translation_rows() -> list[dict[str, Any]]:
    return [
        {
            "id": seed_id("translations", kind, key, "he"),
            "kind": kind,
            "key": key,
            "language": "he",
            "text": text,
        }
        for kind, texts in TRANSLATIONS_HE.items()
        for key, text in texts.items()
    ]
