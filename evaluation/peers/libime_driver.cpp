// libime_driver: libime's pinyin engine (the one inside fcitx5) behind PROTOCOL.md.
//
// libime keeps its user dictionary and history bigram in memory unless the caller saves them;
// we load only the system data, so learning starts from nothing and never touches the real
// user's fcitx5 profile. The private directory is still created for symmetry and removed.
#include "driver_common.h"

#include <libime/core/userlanguagemodel.h>
#include <libime/pinyin/pinyincontext.h>
#include <libime/pinyin/pinyindictionary.h>
#include <libime/pinyin/pinyinime.h>

#include <memory>
#include <string>
#include <vector>

namespace {

// setup.sh passes the packaged paths (found with dpkg -L); these are Debian amd64's.
#ifndef LIBIME_DICT_PATH
#define LIBIME_DICT_PATH "/usr/share/libime/sc.dict"
#endif
#ifndef LIBIME_LM_PATH
#define LIBIME_LM_PATH "/usr/lib/x86_64-linux-gnu/libime/zh_CN.lm"
#endif
const char *const kSystemDict = LIBIME_DICT_PATH;
const char *const kLanguageModel = LIBIME_LM_PATH;
constexpr size_t kLearnDepth = 100;  // candidates searched per learn step: a patient user pages

std::unique_ptr<libime::PinyinIME> ime;
std::unique_ptr<libime::PinyinContext> context;

// Types `keys` into a fresh context: libime re-parses the whole buffer anyway.
void compose(const char *keys) {
    context->clear();
    context->type(keys);
}

void convert(const char *keys) {
    compose(keys);
    std::vector<std::string> texts;
    for (const auto &candidate : context->candidates()) {
        if (texts.size() == MAX_CANDIDATES) break;
        texts.push_back(candidate.toString());
    }
    std::vector<const char *> cands;
    for (const auto &text : texts) cands.push_back(text.c_str());
    reply_candidates(cands.data(), static_cast<int>(cands.size()));
    context->clear();
}

// Selects, step by step, the candidate covering most of the rest of `text`; once the whole
// input is selected, PinyinContext::learn() adds the sentence to the user dictionary and the
// history bigram, which is what fcitx5 does on commit.
void learn(const char *keys, const char *text) {
    std::string rest = text;
    compose(keys);
    while (!context->selected()) {
        const auto &cands = context->candidates();
        size_t best = cands.size(), bestLen = 0;
        for (size_t i = 0; i < cands.size() && i < kLearnDepth; i++) {
            size_t len = prefix_len(cands[i].toString().c_str(), rest.c_str());
            if (len > bestLen) { best = i; bestLen = len; }
        }
        if (best == cands.size()) break;
        context->select(best);
        rest.erase(0, bestLen);
    }
    std::string committed;
    if (context->selected()) {
        committed = context->selectedSentence();
        context->learn();
    }
    context->clear();
    reply_learned(committed.c_str());
}

}  // namespace

int main(int argc, char **argv) {
    driver_args(argc, argv);
    char *userDir = make_private_dir("libime");
    try {
        ime = std::make_unique<libime::PinyinIME>(
            std::make_unique<libime::PinyinDictionary>(),
            std::make_unique<libime::UserLanguageModel>(kLanguageModel));
        ime->dict()->load(libime::PinyinDictionary::SystemDict, kSystemDict,
                          libime::PinyinDictFormat::Binary);
    } catch (const std::exception &e) {
        fprintf(stderr, "libime_driver: cannot load %s / %s (%s); install libime-data and "
                        "libime-data-language-model\n", kSystemDict, kLanguageModel, e.what());
        return 3;
    }
    // fcitx5-chinese-addons' defaults: two sentence candidates, "xian" may split as xi'an,
    // gn/ng and ue/ve typos accepted, incomplete finals allowed.
    using libime::PinyinFuzzyFlag;
    ime->setNBest(2);
    ime->setFuzzyFlags({PinyinFuzzyFlag::Inner, PinyinFuzzyFlag::InnerShort,
                        PinyinFuzzyFlag::PartialFinal, PinyinFuzzyFlag::CommonTypo,
                        PinyinFuzzyFlag::VE_UE});
    context = std::make_unique<libime::PinyinContext>(ime.get());

    reply_ready("libime", PEER_VERSION);
    serve(convert, learn);

    context.reset();
    ime.reset();
    remove_private_dir(userDir);
    free(userDir);
    return 0;
}
