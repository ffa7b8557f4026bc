def test_settings_load_and_urls_resolve(client, db):
    response = client.get("/ru/news/")
    assert response.status_code == 200
