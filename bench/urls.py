"""The production URLconf plus the floor page (`/bench/floor`), for the benchmark only."""

from django.urls import path

from bench.floor import floor
from pressservice import urls as production

urlpatterns = [path("bench/floor", floor, name="bench_floor"), *production.urlpatterns]

handler400 = production.handler400
handler403 = production.handler403
handler404 = production.handler404
handler500 = production.handler500
