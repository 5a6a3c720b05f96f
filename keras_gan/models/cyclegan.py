"""CycleGAN (Zhu et al. 2017) for unpaired domains A (`sources`) and B (`images`)."""

from __future__ import annotations

import keras
from keras import ops

from keras_gan.models import unet
from keras_gan.models.step import Batch
from keras_gan.models.translation import TranslationGAN
from keras_gan.models.translation import per_example_l1
from keras_gan.registry import MODELS


def _pair(a_network, b_network, image_size, channels, name) -> keras.Model:
    """One model holding both networks, so one optimizer and checkpoint cover both:
    `[x_a, x_b] -> [a_network(x_a), b_network(x_b)]`."""
    x_a = keras.Input((image_size, image_size, channels), name="a")
    x_b = keras.Input((image_size, image_size, channels), name="b")
    return keras.Model([x_a, x_b], [a_network(x_a), b_network(x_b)], name=name)


@MODELS.register("cyclegan")
@keras.saving.register_keras_serializable("keras_gan")
class CycleGAN(TranslationGAN):
    """Two U-Net generators (A->B, B->A), two PatchGAN discriminators, least-squares
    loss, cycle consistency `|G_BA(G_AB(a)) - a| + |G_AB(G_BA(b)) - b|` and identity
    `|G_AB(b) - b| + |G_BA(a) - a|` (the paper's weights: 10 and 5). Generating
    translates A to B. Left out: the paper's pool of 50 past fakes for D.

    Args:
        image_size, channels, filters, max_filters: as in `Pix2Pix`.
        cycle_weight: weight of the cycle-consistency L1 terms.
        identity_weight: weight of the identity L1 terms (0: off).
    """

    default_loss = "least_squares"
    base_loss_names = ("d_loss", "g_loss", "cycle", "identity")

    def __init__(
        self,
        image_size=64,
        channels=3,
        filters=32,
        max_filters=256,
        cycle_weight=10.0,
        identity_weight=5.0,
        seed=None,
        **kwargs,
    ):
        self.image_size, self.channels = image_size, channels
        self.filters, self.max_filters = filters, max_filters
        self.cycle_weight, self.identity_weight = cycle_weight, identity_weight
        self.term_weights = {
            "cycle": float(cycle_weight),
            "identity": float(identity_weight),
            "d_loss": 0.5,  # the paper halves D's objective to slow D relative to G
        }
        super().__init__(
            generator=_pair(
                self.domain_generator("a_to_b"),
                self.domain_generator("b_to_a"),
                image_size,
                channels,
                "generator",
            ),
            discriminator=_pair(
                self.domain_discriminator("d_a"),
                self.domain_discriminator("d_b"),
                image_size,
                channels,
                "discriminator",
            ),
            seed=seed,
            **kwargs,
        )

    def domain_generator(self, name: str) -> keras.Model:
        """One direction's generator: a U-Net."""
        return unet.unet_generator(
            self.image_size, self.channels, self.filters, self.max_filters, name=name
        )

    def domain_discriminator(self, name: str) -> keras.Model:
        """One domain's discriminator: a PatchGAN."""
        return unet.patch_discriminator(
            self.image_size,
            self.channels,
            self.filters,
            self.max_filters,
            conditioned=False,
            name=name,
        )

    def generate(self, sources, labels=None, training=False):
        """A -> B."""
        generator = self.generator if training else self.sampling_generator
        return generator.get_layer("a_to_b")(
            ops.convert_to_tensor(sources, "float32"), training=training
        )

    def discriminate(self, images, labels=None, training=False, sources=None):
        """D_B's patch logits on B images (CycleGAN's discriminators see no pairs)."""
        return self.discriminator.get_layer("d_b")(images, training=training)

    def fakes(self, batch: Batch):
        """(A->B of the sources, B->A of the targets), from one pass of both generators."""
        return tuple(self.generator([batch.sources, batch.images], training=True))

    def discriminator_terms(self, batch: Batch, fake):
        fake_b, fake_a = fake
        real_a, real_b = self.discriminator([batch.sources, batch.images], training=True)
        judged_a, judged_b = self.discriminator([fake_a, fake_b], training=True)
        loss = self.adversarial_loss.discriminator_loss
        return {"d_loss": loss(real_a, judged_a) + loss(real_b, judged_b)}, (real_a, real_b)

    def generator_terms(self, batch: Batch, fake) -> dict:
        fake_b, fake_a = fake
        sources, targets = batch.sources, batch.images
        cycled_b, cycled_a = self.generator([fake_a, fake_b], training=True)  # b->a->b, a->b->a
        same_b, same_a = self.generator([targets, sources], training=True)
        judged_a, judged_b = self.discriminator([fake_a, fake_b], training=True)
        loss = self.adversarial_loss.generator_loss
        return {
            "g_loss": loss(judged_a) + loss(judged_b),
            "cycle": per_example_l1(cycled_a, sources) + per_example_l1(cycled_b, targets),
            "identity": per_example_l1(same_b, targets) + per_example_l1(same_a, sources),
        }
