"""The RabbitMQ service: a publish/consume round trip through kombu."""

from __future__ import annotations

import uuid

import pytest
from kombu import Connection, Exchange, Queue

from provgraph.engine.celery.broker import broker_url, check_broker
from provgraph.exceptions import ServiceUnavailable

pytestmark = pytest.mark.requires_rabbitmq


def test_publish_consume_round_trip(amqp_url):
    name = f"probe-{uuid.uuid4()}"
    exchange = Exchange(name, type="direct", auto_delete=True)
    queue = Queue(name, exchange, routing_key=name, auto_delete=True)
    payload = {"pk": 7, "text": "héllo", "values": [1.5, None, True]}
    with Connection(amqp_url) as connection:
        producer = connection.Producer(serializer="json")
        producer.publish(payload, exchange=exchange, routing_key=name, declare=[queue])
        simple = connection.SimpleQueue(queue)
        message = simple.get(block=True, timeout=10)
        message.ack()
        simple.close()
    assert message.payload == payload
    assert message.content_type == "application/json"


def test_guest_account_is_refused(services_profile):
    config = dict(services_profile.section_config("broker"), user="guest", password="guest")
    with pytest.raises(ServiceUnavailable):
        check_broker(config)


def test_broker_url_escapes_credentials():
    url = broker_url({"host": "127.0.0.1", "port": 5672, "user": "u@x", "password": "p/:@", "vhost": "v/1"})
    assert url == "amqp://u%40x:p%2F%3A%40@127.0.0.1:5672/v%2F1"
