from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from news.journalists.models import Frequency
from news.models import Category

HOURS = [(hour, f"{hour:02d}:00") for hour in range(24)]


class CategoryChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, category: Category) -> str:
        return category.name(self.language)


class PreferencesForm(forms.Form):
    categories = CategoryChoiceField(
        label=_("Categories (leave all unticked for all news)"),
        queryset=Category.objects.order_by("name_ru"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    frequency = forms.ChoiceField(
        label=_("How often"),
        choices=Frequency.choices,
        initial=Frequency.IMMEDIATE,
        widget=forms.RadioSelect,
    )
    digest_hour = forms.TypedChoiceField(
        label=_("Daily digest at (press service time)"),
        choices=HOURS,
        coerce=int,
        initial=9,
    )

    def __init__(self, *args, language: str = "ru", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["categories"].language = language


class SubscribeForm(PreferencesForm):
    email = forms.EmailField(label=_("E-mail"), max_length=254)
    field_order = ["email", "categories", "frequency", "digest_hour"]
