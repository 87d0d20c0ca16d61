import boto3


def handler(event, context):
    # No endpoint_url: boto3 finds emu through AWS_ENDPOINT_URL_SNS / _SQS, as a deployed
    # function would find the real services.
    sns = boto3.client("sns")
    published = sns.publish(
        TopicArn=event["topic_arn"],
        Message=event["message"],
        Subject="from a function",
        MessageAttributes={"origin": {"DataType": "String", "StringValue": context.function_name}},
    )
    sqs = boto3.client("sqs")
    sent = sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName=event["queue"])["QueueUrl"], MessageBody=event["message"])
    return {
        "sns_endpoint": sns.meta.endpoint_url,
        "sqs_endpoint": sqs.meta.endpoint_url,
        "message_id": published["MessageId"],
        "sqs_message_id": sent["MessageId"],
    }
