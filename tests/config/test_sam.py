"""SAM templates into a Project: intrinsics, Globals, Conditions and shared validation."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from emulator.config import load_project
from emulator.config.intrinsics import IntrinsicError, Intrinsics
from emulator.config.model import Settings
from emulator.errors import ConfigError

FIXTURES = Path(__file__).parent / "fixtures"
ARN_PREFIX = "arn:aws:lambda:us-east-1:123456789012:function:"
VALID = "Handler: app.handler\nRuntime: python3.12\nCodeUri: src\n"


def write_template(tmp_path: Path, text: str, code_dirs: tuple[str, ...] = ("src",)) -> Path:
    for code_dir in code_dirs:
        (tmp_path / code_dir).mkdir(parents=True, exist_ok=True)
    path = tmp_path / "template.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def load_error(tmp_path: Path, text: str) -> ConfigError:
    path = write_template(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_project(path)
    assert str(path) in str(info.value)
    return info.value


def function_template(properties: str) -> str:
    body = textwrap.indent(properties, " " * 6)
    return (
        "Transform: AWS::Serverless-2016-10-31\n"
        "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n"
        + body
    )


# -- the realistic template ---------------------------------------------------------------


@pytest.fixture
def orders(tmp_path: Path):
    shutil.copy(FIXTURES / "orders_template.yaml", tmp_path / "template.yaml")
    for name in ("create_order", "process_order", "report", "resize"):
        (tmp_path / "src" / name).mkdir(parents=True)
    return load_project(tmp_path / "template.yaml")


def test_orders_template_loads_only_created_functions(orders):
    # AuditFunction's condition is false (and its code dir is missing): it is skipped.
    assert set(orders.functions) == {"CreateOrderFunction", "ProcessOrderFunction", "ReportFunction", "ResizeFunction"}
    assert orders.settings == Settings()


def test_orders_globals_apply_and_function_values_win(orders, tmp_path):
    create = orders.functions["CreateOrderFunction"]
    assert create.runtime == "python3.12"
    assert create.handler == "app.lambda_handler"
    assert create.code == (tmp_path / "src" / "create_order").resolve()
    assert (create.memory, create.timeout) == (256, 10.0)
    assert create.reserved_concurrency is None


def test_orders_environment_merges_globals_and_resolves_intrinsics(orders):
    assert dict(orders.functions["CreateOrderFunction"].environment) == {
        "STAGE": "dev",
        "LOG_LEVEL": "WARNING",  # the function's own value beats Globals' FindInMap
        "TABLE_NAME": "orders-dev",
        "REGION_NAME": "us-east-1",
        "QUEUE_URL": "OrdersQueue",
        "QUEUE_ARN": "OrdersQueue.Arn",
        "WORKER_ARN": ARN_PREFIX + "ProcessOrderFunction",
        "API_URL": "https://OrdersApi.execute-api.us-east-1.amazonaws.com/dev",
        "ALLOWED_ORIGIN": "https://example.com",
        "DEBUG": "true",
        # SENTRY_DSN resolved to AWS::NoValue and is gone.
    }


def test_orders_numbers_from_parameters_and_strings(orders):
    worker = orders.functions["ProcessOrderFunction"]
    assert (worker.memory, worker.timeout) == (512, 60.0)
    assert (worker.reserved_concurrency, worker.provisioned_concurrency) == (5, 2)
    assert worker.environment["LOG_LEVEL"] == "DEBUG"


def test_orders_sub_join_and_unknowns(orders):
    report = orders.functions["ReportFunction"]
    assert report.runtime == "python3.11"
    assert report.environment["BUCKET"] == "reports-dev-123456789012"
    # A parameter without Default stands in by name.
    assert report.environment["ALARM_TOPIC"] == "arn:aws:sns:us-east-1:123456789012:AlarmTopicName"
    # ${!Name} is Sub's escape; an unknown ${Res.Attr} is left as written.
    assert report.environment["GREETING"] == "Hello ${Name}, see ${ReportBucket.Arn}"
    assert report.environment["FIRST_AZ"] == "us-east-1a"


def test_orders_provided_runtime_and_novalue_removes_property(orders):
    resize = orders.functions["ResizeFunction"]
    assert (resize.runtime, resize.handler, resize.is_provided) == ("provided.al2023", "bootstrap", True)
    # Timeout: !If [IsProd, 30, AWS::NoValue] removes the property, so Lambda's 3s applies, not Globals' 10.
    assert resize.timeout == 3.0


# -- defaults and detection ---------------------------------------------------------------


def test_minimal_template_uses_sam_defaults(tmp_path):
    path = write_template(
        tmp_path,
        """\
        Resources:
          Hello:
            Type: AWS::Serverless::Function
            Properties:
              Handler: app.handler
              Runtime: python3.13
        """,
        code_dirs=(),
    )
    spec = load_project(path).functions["Hello"]
    assert spec.code == tmp_path.resolve()  # CodeUri defaults to '.'
    assert (spec.memory, spec.timeout, spec.provisioned_concurrency) == (128, 3.0, 0)
    assert spec.arn(Settings()) == ARN_PREFIX + "Hello"


def test_template_format_version_alone_marks_sam(tmp_path):
    path = write_template(tmp_path, "AWSTemplateFormatVersion: '2010-09-09'\nResources: {}\n")
    with pytest.raises(ConfigError, match="no AWS::Serverless::Function"):
        load_project(path)


def test_transform_list_marks_sam(tmp_path):
    error = load_error(tmp_path, "Transform: [AWS::LanguageExtensions, AWS::Serverless-2016-10-31]\n")
    assert error.key == "Resources"


def test_non_function_resources_only_is_an_error(tmp_path):
    error = load_error(
        tmp_path,
        """\
        AWSTemplateFormatVersion: '2010-09-09'
        Resources:
          Bucket:
            Type: AWS::S3::Bucket
          Plain:
            Type: AWS::Lambda::Function
        """,
    )
    assert "no AWS::Serverless::Function resources" in str(error)


def test_environment_variables_merge_key_by_key(tmp_path):
    path = write_template(
        tmp_path,
        """\
        Transform: AWS::Serverless-2016-10-31
        Globals:
          Function:
            Handler: app.handler
            Runtime: python3.12
            CodeUri: src
            Environment:
              Variables: {SHARED: from-globals, OVERRIDDEN: from-globals}
        Resources:
          A:
            Type: AWS::Serverless::Function
            Properties:
              Environment:
                Variables: {OVERRIDDEN: from-function, OWN: 1}
          B:
            Type: AWS::Serverless::Function
        """,
    )
    functions = load_project(path).functions
    assert dict(functions["A"].environment) == {"SHARED": "from-globals", "OVERRIDDEN": "from-function", "OWN": "1"}
    assert dict(functions["B"].environment) == {"SHARED": "from-globals", "OVERRIDDEN": "from-globals"}


def test_long_form_intrinsics_load_too(tmp_path):
    path = write_template(
        tmp_path,
        """\
        Transform: AWS::Serverless-2016-10-31
        Parameters:
          Mem: {Type: Number, Default: "1024"}
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: {"Fn::Join": ["", ["s", "rc"]]}
              Handler: {"Fn::Sub": "app.${AWS::StackName}"}
              Runtime: python3.12
              MemorySize: {"Ref": "Mem"}
              Environment:
                Variables:
                  PART: {"Fn::Select": ["1", {"Fn::Split": [",", "a,b,c"]}]}
                  ENCODED: {"Fn::Base64": "hi"}
                  STACK: {"Ref": "AWS::StackId"}
                  IMPORTED: {"Fn::ImportValue": {"Fn::Sub": "${AWS::StackName}-vpc"}}
                  SUBNET: {"Fn::Select": [1, {"Fn::Cidr": ["10.0.0.0/16", 2, 8]}]}
        """,
    )
    spec = load_project(path).functions["Fn"]
    assert (spec.handler, spec.memory, spec.code) == ("app.emu", 1024, (tmp_path / "src").resolve())
    assert dict(spec.environment) == {
        "PART": "b",
        "ENCODED": "aGk=",
        "STACK": "arn:aws:cloudformation:us-east-1:123456789012:stack/emu/00000000-0000-0000-0000-000000000000",
        "IMPORTED": "emu-vpc",
        "SUBNET": "10.0.1.0/24",
    }


def test_sub_with_variables_and_resources(tmp_path):
    path = write_template(
        tmp_path,
        """\
        Transform: AWS::Serverless-2016-10-31
        Resources:
          Queue:
            Type: AWS::SQS::Queue
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: src
              Handler: app.handler
              Runtime: python3.12
              Environment:
                Variables:
                  A: !Sub ["${Greeting}, ${Fn}! ${Fn.Arn}", {Greeting: !Join [" ", [hello, there]]}]
                  B: !Sub "${Unknown} ${Queue} ${Queue.Arn} ${ AWS::Region }"
        """,
    )
    env = load_project(path).functions["Fn"].environment
    assert env["A"] == f"hello there, Fn! {ARN_PREFIX}Fn"
    assert env["B"] == "${Unknown} Queue ${Queue.Arn} us-east-1"


def test_function_condition_false_skips_function(tmp_path):
    path = write_template(
        tmp_path,
        """\
        Transform: AWS::Serverless-2016-10-31
        Parameters:
          Env: {Type: String, Default: dev}
        Conditions:
          Never: !Equals [!Ref Env, prod]
        Globals:
          Function: {Handler: app.handler, Runtime: python3.12, CodeUri: src}
        Resources:
          Kept:
            Type: AWS::Serverless::Function
          Skipped:
            Type: AWS::Serverless::Function
            Condition: Never
        """,
    )
    assert list(load_project(path).functions) == ["Kept"]


# -- errors name the function and the SAM key ----------------------------------------------


@pytest.mark.parametrize(
    ("properties", "key", "fragment"),
    [
        ("Handler: app.handler\nCodeUri: src\n", "Runtime", "is required"),
        ("Handler: app.handler\nRuntime: nodejs20.x\nCodeUri: src\n", "Runtime", "unsupported runtime"),
        ("Runtime: python3.12\nCodeUri: src\n", "Handler", "is required"),
        ("Handler: app.handler\nRuntime: python3.12\nCodeUri: missing\n", "CodeUri", "does not exist"),
        ("Handler: app.handler\nRuntime: python3.12\nCodeUri: s3://bucket/code.zip\n", "CodeUri", "local directory"),
        ("Handler: app.handler\nRuntime: python3.12\nCodeUri: {Bucket: b, Key: k}\n", "CodeUri", "local directory"),
        (VALID + "MemorySize: 64\n", "MemorySize", "between 128 and 10240"),
        (VALID + "MemorySize: big\n", "MemorySize", "must be an integer"),
        (VALID + "Timeout: '901'\n", "Timeout", "between 1 and 900"),
        (
            VALID + "ReservedConcurrentExecutions: 1\n"
            "ProvisionedConcurrencyConfig: {ProvisionedConcurrentExecutions: 2}\n",
            "ProvisionedConcurrencyConfig.ProvisionedConcurrentExecutions",
            "must not exceed ReservedConcurrentExecutions",
        ),
        (
            VALID + "Environment: {Variables: {BAD-NAME: x}}\n",
            "Environment.Variables",
            "invalid variable name",
        ),
        ("PackageType: Image\nImageUri: repo:latest\n", "PackageType", "container image"),
        ("InlineCode: print(1)\nHandler: index.handler\nRuntime: python3.12\n", "InlineCode", "inline code"),
        ("Handler: !If [Missing, a.b, c.d]\nRuntime: python3.12\nCodeUri: src\n", "Handler", "unknown condition"),
        ("Handler: app.handler\nRuntime: python3.12\nCodeUri: !Select [5, [a, b]]\n", "CodeUri", "out of range"),
        ("Handler: app.handler\nRuntime: python3.12\nCodeUri: !FindInMap [M, x, y]\n", "CodeUri", "FindInMap"),
    ],
)
def test_invalid_function_properties(tmp_path, properties, key, fragment):
    error = load_error(tmp_path, function_template(properties))
    assert (error.function, error.key) == ("Fn", key)
    assert "function 'Fn'" in str(error) and key in str(error) and fragment in str(error)


def test_self_referencing_condition_is_an_error(tmp_path):
    error = load_error(
        tmp_path,
        """\
        Transform: AWS::Serverless-2016-10-31
        Conditions:
          Loop: !Not [!Condition Loop]
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Condition: Loop
        """,
    )
    assert (error.function, error.key) == ("Fn", "Condition")
    assert "depends on itself" in str(error)


def test_bad_globals_is_an_error(tmp_path):
    error = load_error(tmp_path, "Transform: AWS::Serverless-2016-10-31\nGlobals:\n  Function: [1]\n")
    assert error.key == "Globals.Function"


# -- intrinsics on their own ----------------------------------------------------------------


def test_conditions_combine():
    template = {
        "Parameters": {"Stage": {"Type": "String", "Default": "prod"}},
        "Conditions": {
            "IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]},
            "NotProd": {"Fn::Not": [{"Condition": "IsProd"}]},
            "Both": {"Fn::And": [{"Condition": "IsProd"}, {"Condition": "NotProd"}]},
            "Either": {"Fn::Or": [{"Condition": "IsProd"}, {"Condition": "NotProd"}]},
        },
    }
    intrinsics = Intrinsics(template, Settings(region="eu-west-1"))
    names = ("IsProd", "NotProd", "Both", "Either")
    assert [intrinsics.condition(name) for name in names] == [True, False, False, True]
    assert intrinsics.resolve({"Fn::If": ["IsProd", {"Ref": "AWS::Region"}, "x"]}) == "eu-west-1"


def test_no_value_drops_list_items_and_keys():
    intrinsics = Intrinsics({}, Settings())
    no_value = {"Ref": "AWS::NoValue"}
    assert intrinsics.resolve({"a": no_value, "b": [1, no_value, 2]}) == {"b": [1, 2]}


def test_unknown_functions_are_left_alone():
    intrinsics = Intrinsics({}, Settings())
    transform = {"Fn::Transform": {"Name": "AWS::Include"}}
    assert intrinsics.resolve(transform) == transform


def test_malformed_intrinsic_raises():
    with pytest.raises(IntrinsicError, match="Fn::Join"):
        Intrinsics({}, Settings()).resolve({"Fn::Join": "not-a-list"})


def test_a_bucket_reference_is_the_bucket_name_its_s3_events_use(tmp_path):
    # Ref of an AWS::S3::Bucket is its name in CloudFormation; emu's name for it (and so
    # the folder its S3 events watch) is BucketName, else the logical id in lower case.
    path = write_template(
        tmp_path,
        """\
        Transform: AWS::Serverless-2016-10-31
        Resources:
          Named:
            Type: AWS::S3::Bucket
            Properties:
              BucketName: !Sub "${AWS::StackName}-named"
          Unnamed:
            Type: AWS::S3::Bucket
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: src
              Handler: app.handler
              Runtime: python3.12
              Environment:
                Variables:
                  NAMED: !Ref Named
                  UNNAMED: !Ref Unnamed
                  SUB: !Sub "s3://${Named}/${Unnamed}"
                  ARN: !GetAtt Named.Arn
                  SUB_ARN: !Sub "${Unnamed.Arn}/*"
              Events:
                Drop:
                  Type: S3
                  Properties:
                    Bucket: !Ref Unnamed
                    Events: s3:ObjectCreated:*
        """,
    )
    fn = load_project(path).functions["Fn"]
    assert dict(fn.environment) == {
        "NAMED": "emu-named",
        "UNNAMED": "unnamed",
        "SUB": "s3://emu-named/unnamed",
        "ARN": "arn:aws:s3:::emu-named",
        "SUB_ARN": "arn:aws:s3:::unnamed/*",
    }
    assert [trigger.bucket for trigger in fn.events] == ["unnamed"]


def test_a_bucket_named_after_itself_is_an_error():
    template = {"Resources": {"B": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": {"Fn::Sub": "x-${B}"}}}}}
    with pytest.raises(IntrinsicError, match="B.BucketName refers to itself"):
        Intrinsics(template, Settings()).resolve({"Ref": "B"})
