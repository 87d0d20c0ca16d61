"""Counts orders per item, from the message attribute the order function sets."""

from collections import Counter

ORDERS = Counter()  # lives as long as the warm environment, like any module state in Lambda


def handler(event, context):
    for record in event["Records"]:
        item = record["Sns"]["MessageAttributes"]["item"]["Value"]
        ORDERS[item] += 1
        print(f"analytics: order {record['Sns']['MessageId']} for {item}; {ORDERS[item]} so far in this environment")
