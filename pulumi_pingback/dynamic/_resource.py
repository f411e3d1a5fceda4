"""``PingBackChannel``: the typed front users write in their programs.

Overloads pair each channel type with its config, so a misspelt type, a misspelt key
in a dict literal, or one type's config given to another type is an editor (and mypy)
error, before any preview. What is known only when the program runs (a ``str`` type
from stack config, a value typed ``ChannelConfig``, an Output) is accepted: the
provider checks it at preview.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeVar, overload

import pulumi
from pulumi.dynamic import Resource

from ..channels._configs import (
    ChannelConfig,
    ConfigFor,
    EmailConfig,
    InstagramConfig,
    InstagramConfigDict,
    SmsConfig,
    TelegramConfig,
    TelegramConfigDict,
    WebchatConfig,
    WhatsAppConfig,
    WhatsAppConfigDict,
    WidgetConfig,
    XConfig,
    XConfigDict,
)
from ..channels._kinds import ChannelType
from ..channels._schema import COMPUTED, SECRET_OUTPUTS, TIME_LIMITS
from ._program import once_per_program
from ._provider import PingBackChannelProvider

__all__ = ["PingBackChannel"]

_Free = Mapping[str, pulumi.Input[Any]]

TypeMatchingConfig = TypeVar("TypeMatchingConfig", bound=str)
"""The first overload's type. mypy names it when a call pairs a type with another
type's config (``type="telegramm", config=TelegramConfig(...)``): ``Cannot infer value of
type parameter "TypeMatchingConfig" of "PingBackChannel"``, one line."""

_PROVIDER = PingBackChannelProvider()
"""One provider for every channel: the same blob in each resource's state (a 74-byte
pickle of the class alone, 100 characters of base64)."""


def _sealed(channel_type: Any, config: Any) -> Any:
    """The config as registered: the core's secret paths as secret Outputs, so every
    credential is a secret even when given as plain text (``phone_number_id`` and
    ``widget_id`` stay readable; an undocumented type's, or a config not known yet, is
    secret whole). The provider seals its outputs by the same rule, and the engine keeps
    secret among them whatever the program marked (a config given whole as a secret
    stays one): no ``additional_secret_outputs`` for ``config``, so a widget holds no
    ciphertext."""
    from ..channels._results import sealed_config

    return sealed_config(channel_type, config, pulumi.Output.secret)


_OUTPUTS: dict[str, Any] = dict.fromkeys(COMPUTED)
"""Registered as None: the provider fills them."""


def _with_secret_outputs(opts: pulumi.ResourceOptions | None) -> pulumi.ResourceOptions:
    """``opts`` and the outputs secret as a whole (the Meta verify token), as a generated
    SDK registers the schema's secret outputs."""
    secret = pulumi.ResourceOptions(additional_secret_outputs=list(SECRET_OUTPUTS))
    return pulumi.ResourceOptions.merge(secret, opts)


class PingBackChannel(Resource, module="pingback", name="Channel"):
    """A PingBack messaging channel (Telegram bot, WhatsApp number, X account, widget…).

    Changing ``type`` or the channel's identity (another bot, number or account) replaces
    it, creating the new channel before deleting the old one; everything else, credential
    rotation included, updates it in place.
    """

    # A type or config known only when the program runs: any str type with a config of
    # no known type (a value typed ChannelConfig, ChannelConfig({...})) or an Output.
    # ConfigFor pairs type and config by a type variable: a TelegramConfig is a
    # ConfigFor[Literal["telegram"]] only, so with type="telegramm", a str variable or
    # another literal no type fits both, and the call is refused (type="telegram" takes
    # it below). No dict: mypy cannot tell type="telegramm" from a str variable, so
    # taking one would let a misspelt type or key through; ChannelConfig({...}) is the
    # dict written so that its keys are checked at preview.
    #
    # What mypy reports when no overload matches: the first overload whose argument
    # types match once literals and type variables are erased, else every overload.
    # For a typed config with a str or a misspelt type that is this one alone (a literal
    # is erased to str: no literal overload matches it), hence one line naming
    # TypeMatchingConfig instead of ten overloads; a dict literal still lists them all.
    # First, as the str overload it replaces was: when none matches, pyright names the
    # last of those that failed furthest on, so a literal type's own overload.
    @overload
    def __init__(
        self,
        resource_name: str,
        *,
        type: TypeMatchingConfig,
        config: ConfigFor[TypeMatchingConfig] | pulumi.Output[Mapping[str, Any]],
        is_active: pulumi.Input[bool] = True,
        adopt_id: pulumi.Input[str] | None = None,
        adopt_overwrite: pulumi.Input[bool] = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Any ``str`` type (from stack config, a ``ChannelTypeName`` or ``ChannelType``
        variable) with a config whose type is not known statically either (a value typed
        ``ChannelConfig``, ``ChannelConfig({...})``, an Output): the provider checks the
        pair at preview."""

    @overload
    def __init__(
        self,
        resource_name: str,
        *,
        type: Literal["telegram", ChannelType.TELEGRAM],
        config: TelegramConfig | TelegramConfigDict | pulumi.Output[TelegramConfigDict],
        is_active: pulumi.Input[bool] = True,
        adopt_id: pulumi.Input[str] | None = None,
        adopt_overwrite: pulumi.Input[bool] = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None: ...
    @overload
    def __init__(
        self,
        resource_name: str,
        *,
        type: Literal["whatsapp", ChannelType.WHATSAPP],
        config: WhatsAppConfig | WhatsAppConfigDict | pulumi.Output[WhatsAppConfigDict],
        is_active: pulumi.Input[bool] = True,
        adopt_id: pulumi.Input[str] | None = None,
        adopt_overwrite: pulumi.Input[bool] = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None: ...
    @overload
    def __init__(
        self,
        resource_name: str,
        *,
        type: Literal["instagram", ChannelType.INSTAGRAM],
        config: InstagramConfig | InstagramConfigDict | pulumi.Output[InstagramConfigDict],
        is_active: pulumi.Input[bool] = True,
        adopt_id: pulumi.Input[str] | None = None,
        adopt_overwrite: pulumi.Input[bool] = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None: ...
    @overload
    def __init__(
        self,
        resource_name: str,
        *,
        type: Literal["x", ChannelType.X],
        config: XConfig | XConfigDict | pulumi.Output[XConfigDict],
        is_active: pulumi.Input[bool] = True,
        adopt_id: pulumi.Input[str] | None = None,
        adopt_overwrite: pulumi.Input[bool] = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None: ...
    @overload
    def __init__(
        self,
        resource_name: str,
        *,
        type: Literal["widget", ChannelType.WIDGET],
        config: WidgetConfig | pulumi.Input[_Free],
        is_active: pulumi.Input[bool] = True,
        adopt_id: pulumi.Input[str] | None = None,
        adopt_overwrite: pulumi.Input[bool] = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None: ...
    @overload
    def __init__(
        self,
        resource_name: str,
        *,
        type: Literal["webchat", ChannelType.WEBCHAT],
        config: WebchatConfig | pulumi.Input[_Free] = ...,
        is_active: pulumi.Input[bool] = True,
        adopt_id: pulumi.Input[str] | None = None,
        adopt_overwrite: pulumi.Input[bool] = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None: ...
    @overload
    def __init__(
        self,
        resource_name: str,
        *,
        type: Literal["email", ChannelType.EMAIL],
        config: EmailConfig | pulumi.Input[_Free] = ...,
        is_active: pulumi.Input[bool] = True,
        adopt_id: pulumi.Input[str] | None = None,
        adopt_overwrite: pulumi.Input[bool] = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None: ...
    @overload
    def __init__(
        self,
        resource_name: str,
        *,
        type: Literal["sms", ChannelType.SMS],
        config: SmsConfig | pulumi.Input[_Free] = ...,
        is_active: pulumi.Input[bool] = True,
        adopt_id: pulumi.Input[str] | None = None,
        adopt_overwrite: pulumi.Input[bool] = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None: ...
    @overload
    def __init__(
        self,
        resource_name: str,
        *,
        type: pulumi.Output[str],
        config: ChannelConfig | pulumi.Input[_Free],
        is_active: pulumi.Input[bool] = True,
        adopt_id: pulumi.Input[str] | None = None,
        adopt_overwrite: pulumi.Input[bool] = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """A type known only when the program runs (an Output): checked at preview."""

    def __init__(
        self,
        resource_name: str,
        *,
        type: pulumi.Input[str],
        config: Any = None,
        is_active: pulumi.Input[bool] = True,
        adopt_id: pulumi.Input[str] | None = None,
        adopt_overwrite: pulumi.Input[bool] = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """
        :param resource_name: The Pulumi name of the resource.
        :param type: The channel type (a :class:`ChannelType` or its string value).
        :param config: The channel's config: its typed config (``TelegramConfig``, …), or a
            dict (a ``TelegramConfigDict``, … for the documented types); with a type known
            only at run time, ``ChannelConfig({...})`` or an Output.
        :param is_active: Whether the channel is active (default True).
        :param adopt_id: The id of an existing channel to take under management instead
            of creating one (``import_`` cannot work for dynamic providers).
        :param adopt_overwrite: Let the adopting ``up`` replace a config (or ``is_active``)
            PingBack holds that differs from the declared one. Without it such an
            adoption is refused, naming the keys that differ: nothing is changed unseen.
        :param opts: Resource options; ``additional_secret_outputs`` always includes
            ``meta_verify_token`` (each credential of ``config`` is secret in the outputs
            too: the provider marks them). ``replace_on_changes`` is honoured (the
            provider applies it), and so is ``custom_timeouts`` (each create, update and
            delete, retries and settling included, ends by its limit); ``import_`` is
            refused: use ``adopt_id``.
        """
        if opts is not None and opts.import_ is not None:
            raise pulumi.RunError(
                f"PingBackChannel '{resource_name}': the import_ option cannot work for a "
                "dynamic provider (pulumi/pulumi#16175). To bring an existing channel under "
                f"Pulumi, pass adopt_id='{opts.import_}' instead (see the README, Adoption)."
            )
        once_per_program()  # the pingback: settings, under the stack, before any resource
        if isinstance(type, ChannelType):
            type = type.value
        if isinstance(config, ChannelConfig):  # a typed config, or ChannelConfig({...})
            config = config.to_dict()
        if config is None:
            config = {}
        props: dict[str, Any] = {
            "type": type,
            "config": _sealed(type, config),
            "is_active": is_active,
            "adopt_id": adopt_id,
            **_OUTPUTS,
        }
        if adopt_overwrite is not False:
            props["adopt_overwrite"] = adopt_overwrite
        if opts is not None and opts.replace_on_changes:
            # The engine applies replace_on_changes to a detailed diff, which the dynamic
            # server never sends: the provider's diff policy applies it instead.
            props["replace_on_changes"] = list(opts.replace_on_changes)
        if opts is not None and opts.ignore_changes:
            # The engine applies it before Check, but not to a refresh's Diff, and the
            # dynamic server never hands it to the provider: the diff policy applies it.
            props["ignore_changes"] = list(opts.ignore_changes)
        timeouts = opts.custom_timeouts if opts is not None else None
        if timeouts is not None:
            # The dynamic provider is not given the engine's timeout: the provider bounds
            # each create, update and delete by these itself.
            limits = {op: getattr(timeouts, op) for op in ("create", "update", "delete")}
            props[TIME_LIMITS] = {op: v for op, v in limits.items() if v}
        super().__init__(_PROVIDER, resource_name, props, _with_secret_outputs(opts))
        if opts is not None and "identity" in (opts.ignore_changes or []):
            pulumi.log.warn(
                'ignore_changes=["identity"] has no effect: identity is computed from config '
                "by the provider on every run. Ignore the key it comes from instead, e.g. "
                'ignore_changes=["config.bot_token"].',
                resource=self,
            )

    @staticmethod
    def get(
        resource_name: str, id: pulumi.Input[str], opts: pulumi.ResourceOptions | None = None
    ) -> PingBackChannel:
        """Look up an existing channel by id (read only: this stack does not manage it).

        A channel PingBack does not have is an error naming the id.
        """
        channel = PingBackChannel.__new__(PingBackChannel)
        lookup = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(id=id))
        props = {"type": None, "config": None, "is_active": None, **_OUTPUTS}
        Resource.__init__(channel, _PROVIDER, resource_name, props, _with_secret_outputs(lookup))
        return channel

    @property
    def type(self) -> pulumi.Output[str]:
        """The channel type."""
        return pulumi.get(self, "type")  # type: ignore[no-any-return]

    @property
    def config(self) -> pulumi.Output[dict[str, Any]]:
        """The channel's config as PingBack stores it (the user's keys only); secret when
        it holds a credential."""
        return pulumi.get(self, "config")  # type: ignore[no-any-return]

    @property
    def is_active(self) -> pulumi.Output[bool]:
        """Whether the channel is active."""
        return pulumi.get(self, "is_active")  # type: ignore[no-any-return]

    @property
    def identity(self) -> pulumi.Output[str | None]:
        """What the channel is bound to, e.g. ``telegram:bot/7123456789`` (not secret)."""
        return pulumi.get(self, "identity")  # type: ignore[no-any-return]

    @property
    def business_id(self) -> pulumi.Output[str]:
        """The PingBack business that owns the channel."""
        return pulumi.get(self, "business_id")  # type: ignore[no-any-return]

    @property
    def created_at(self) -> pulumi.Output[str]:
        """When PingBack created the channel (ISO 8601)."""
        return pulumi.get(self, "created_at")  # type: ignore[no-any-return]

    @property
    def meta_callback_url(self) -> pulumi.Output[str | None]:
        """WhatsApp/Instagram: the callback URL to register in the Meta app dashboard."""
        return pulumi.get(self, "meta_callback_url")  # type: ignore[no-any-return]

    @property
    def meta_verify_token(self) -> pulumi.Output[str | None]:
        """WhatsApp/Instagram: the verify token to register in Meta (secret)."""
        return pulumi.get(self, "meta_verify_token")  # type: ignore[no-any-return]
