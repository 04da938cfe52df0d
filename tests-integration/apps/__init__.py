"""Small applications the integration tests serve under real servers."""
